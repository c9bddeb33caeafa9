"""A small cluster on this machine: one Temporal dev server, PostgreSQL, two worker and two API processes.

Everything runs as real subprocesses of the installed `bleibe` command, configured only through the
environment, exactly as deploy/compose.yaml and deploy/k8s/ configure the containers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

from core.codec import new_key_spec
from core.temporal import SEARCH_ATTRIBUTES, free_port

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def postgres_admin_url() -> str:
    url = os.environ.get("BLEIBE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    return url.replace("postgresql+psycopg://", "postgresql://")


def require_postgres() -> str:
    """The admin URL of a reachable PostgreSQL; on CI a missing one fails the run instead of skipping it."""
    import psycopg

    url = postgres_admin_url()
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        message = (f"PostgreSQL is not reachable at {url} ({type(exc).__name__}): the multi-process deployment "
                   "test needs it; start it or set BLEIBE_TEST_POSTGRES_URL")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None
    metrics_port: int | None = None
    _out: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, n: int = 30) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return f"--- {self.name} (exit {self.popen.poll()}) ---\n" + "\n".join(lines[-n:])


@dataclass
class Cluster:
    tmp: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, args: list[str], **env: str) -> Proc:
        log = self.tmp / f"{name}.log"
        out = log.open("ab")
        popen = subprocess.Popen(args, env={**self.env, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp)
        proc = Proc(name, popen, log, _out=out)
        self.procs.append(proc)
        return proc

    def start_worker(self, name: str) -> Proc:
        port = free_port()
        proc = self.start(name, [str(BIN / "bleibe"), "worker"], BLEIBE_WORKER_METRICS_PORT=str(port))
        proc.metrics_port = port
        return proc

    def start_api(self, name: str) -> Proc:
        port = free_port()
        proc = self.start(name, [str(BIN / "bleibe"), "api"], BLEIBE_PORT=str(port))
        proc.port = port
        return proc

    def bleibe(self, *args: str) -> str:
        """Run a one-shot `bleibe` command (as the migration Job does); its standard output."""
        done = subprocess.run([str(BIN / "bleibe"), *args], env=self.env, capture_output=True, text=True,
                              timeout=120, cwd=self.tmp)
        assert done.returncode == 0, f"bleibe {' '.join(args)}: {done.stderr}"
        return done.stdout

    def create_user(self, role: str) -> str:
        return self.bleibe("users", "create", "--name", f"{role}-{uuid.uuid4().hex[:6]}", "--role", role,
                           "--unit", "dresden").strip().splitlines()[-1]

    def wait_ready(self, api: Proc, timeout: float = 60) -> None:
        """Poll /readyz until the API sees the database, Temporal and a polling worker."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            assert api.popen.poll() is None, self.logs()
            try:
                r = httpx.get(f"{api.url}/readyz", timeout=5)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.3)
        raise AssertionError(f"{api.name} not ready within {timeout} s: {last}\n{self.logs()}")

    def stop(self, proc: Proc, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if proc.popen.poll() is None:
            proc.popen.send_signal(sig)
        try:
            return proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            return proc.popen.wait()

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.procs)

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait()
            if proc._out:
                proc._out.close()


def _wait_for_temporal(cluster: Cluster, server: Proc, address: str, timeout: float = 60) -> None:
    import socket

    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.popen.poll() is None, cluster.logs()
        with socket.socket() as s:
            if s.connect_ex((host, int(port))) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"the Temporal dev server did not listen within {timeout} s\n{cluster.logs()}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """PostgreSQL database + Temporal dev server + 2 workers + 2 APIs; everything removed afterwards."""
    import psycopg

    admin = require_postgres()
    tmp = tmp_path_factory.mktemp("cluster")
    db = f"bleibe_deploy_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    address = f"127.0.0.1:{free_port()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BLEIBE_", "TEMPORAL_", "DATABASE_"))},
        "DATABASE_URL": f"{admin.rsplit('/', 1)[0]}/{db}",
        "TEMPORAL_ADDRESS": address,
        "BLEIBE_CODEC_KEYS": new_key_spec("deploy1"),
        "BLEIBE_SESSION_SECRET": uuid.uuid4().hex,
        "BLEIBE_DATA_DIR": str(tmp / "data"),
        "BLEIBE_TASK_QUEUE": f"deploy-{uuid.uuid4().hex[:8]}",
        "BLEIBE_LOG_FORMAT": "json",
        # A killed worker's cached cases move to the other worker after this many seconds.
        "BLEIBE_WORKER_STICKY_TIMEOUT_SECONDS": "2",
        "BLEIBE_WORKER_SHUTDOWN_GRACE_SECONDS": "5",
    }
    c = Cluster(tmp, env)
    try:
        cmd = [str(BIN / "temporal"), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
               "--port", address.rsplit(":", 1)[1], "--http-port", str(free_port()),
               "--metrics-port", str(free_port()), "--log-level", "error",
               "--db-filename", str(tmp / "temporal.sqlite")]
        for name, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        server = c.start("temporal", cmd)
        _wait_for_temporal(c, server, address)
        c.bleibe("migrate")
        c.start_worker("worker-1")
        c.start_worker("worker-2")
        for name in ("api-1", "api-2"):
            c.wait_ready(c.start_api(name))
        yield c
    finally:
        c.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
