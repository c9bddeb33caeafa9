"""The benchmark's own stack: a Temporal dev server and a worker process on random ports, a SQLite file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from core.codec import new_key_spec
from core.settings import Settings
from core.temporal import SEARCH_ATTRIBUTES, free_port

BIN = Path(sys.executable).parent


@dataclass
class BenchStack:
    """Start with `start()`, always end with `close()` (kills every process it started)."""

    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bleibe-bench-")))
    port: int = field(default_factory=free_port)
    task_queue: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    codec_keys: str = field(default_factory=lambda: new_key_spec("bench1"))
    database_url: str | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.tmp / 'bleibe.sqlite3'}"

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("BLEIBE_", "TEMPORAL_", "DATABASE_"))}
        return {**base, "DATABASE_URL": self.db_url, "TEMPORAL_ADDRESS": self.address,
                "BLEIBE_CODEC_KEYS": self.codec_keys, "BLEIBE_TASK_QUEUE": self.task_queue,
                "BLEIBE_DATA_DIR": str(self.tmp / "data"), "BLEIBE_LOG_LEVEL": "WARNING", "BLEIBE_LOG_FORMAT": "json"}

    def settings(self) -> Settings:
        return Settings(**self.env())  # type: ignore[arg-type]

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        out = (self.tmp / f"{name}.log").open("ab")
        self._logs.append(out)
        proc = subprocess.Popen(cmd, env=self.env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start(self) -> None:
        from store.migrate import upgrade

        (self.tmp / "data").mkdir(exist_ok=True)
        upgrade(self.db_url)
        cmd = [str(BIN / "temporal"), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
               "--port", str(self.port), "--http-port", str(free_port()), "--metrics-port", str(free_port()),
               "--log-level", "error", "--db-filename", str(self.tmp / "temporal.sqlite")]
        for name, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        self._spawn("temporal", cmd)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the Temporal dev server did not start")
        self._spawn("worker", [str(BIN / "bleibe"), "worker"])

    def worker_rss_mib(self) -> float:
        """Resident memory of the worker process (VmRSS), MiB."""
        status = Path(f"/proc/{self.procs['worker'].pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kib / 1024

    def close(self) -> None:
        for name in ("worker", "temporal"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for out in self._logs:
            out.close()
