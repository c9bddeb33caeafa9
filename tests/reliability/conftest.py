"""Processes the reliability tests start and kill: their own Temporal dev server, worker processes, a stack.

Every process is started in its own process group and ended (with its children) when the test is done,
whatever happened.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from core.temporal import SEARCH_ATTRIBUTES, free_port
from tests.conftest import CODEC_KEYS, Api, make_settings

BIN = Path(sys.executable).parent


def base_env(**over: str) -> dict[str, str]:
    """The parent environment without any Bleibe/Temporal/database setting, plus `over`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLEIBE_", "TEMPORAL_", "DATABASE_"))}
    return {**env, "BLEIBE_LOG_FORMAT": "json", **over}


@dataclass
class Proc:
    """One subprocess with its output in a log file."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    _out: IO[bytes] | None = None

    def start(self) -> Proc:
        self._out = self.log.open("ab")
        self.popen = subprocess.Popen(self.cmd, env=self.env, stdout=self._out, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Send `sig` to the process group; kill it when it does not end within `timeout`."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            code = self.popen.wait()
        # Children left behind (the stack's server, worker, API) go with the group.
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self._out:
            self._out.close()
            self._out = None
        return code

    def tail(self, n: int = 40) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        code = self.popen.poll() if self.popen else None
        return f"--- {self.name} (exit {code}) ---\n" + "\n".join(lines[-n:])


def wait_port(address: str, proc: Proc, timeout: float = 60) -> None:
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.running, proc.tail()
        with socket.socket() as s:
            if s.connect_ex((host, int(port))) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"{proc.name} did not listen on {address} within {timeout} s\n{proc.tail()}")


@dataclass
class Fleet:
    """The processes of one test; `close()` ends all of them."""

    tmp: Path
    procs: list[Proc] = field(default_factory=list)

    def spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, cmd, env, self.tmp / f"{name}.log").start()
        self.procs.append(proc)
        return proc

    def temporal(self, port: int, db_file: Path, name: str = "temporal") -> Proc:
        """A Temporal dev server on `port` with the custom search attributes, history in `db_file`."""
        cmd = [str(BIN / "temporal"), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
               "--http-port", str(free_port()), "--metrics-port", str(free_port()), "--log-level", "error",
               "--db-filename", str(db_file)]
        for attr, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{attr}={kind}"]
        proc = self.spawn(name, cmd, base_env())
        wait_port(f"127.0.0.1:{port}", proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.procs)

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop(signal.SIGTERM, timeout=15)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    f = Fleet(tmp_path)
    try:
        yield f
    finally:
        f.close()


@dataclass
class Site:
    """An own Temporal server and SQLite database, with the settings an API and a worker share."""

    fleet: Fleet
    db_url: str
    address: str
    port: int
    temporal_db: Path
    data_dir: Path
    task_queue: str
    server: Proc | None = None

    @property
    def settings(self) -> Any:
        return make_settings(self.db_url, self.data_dir, TEMPORAL_ADDRESS=self.address,
                             BLEIBE_TASK_QUEUE=self.task_queue)

    def start_server(self) -> Proc:
        self.server = self.fleet.temporal(self.port, self.temporal_db)
        return self.server

    def worker_env(self, **over: str) -> dict[str, str]:
        env = {"DATABASE_URL": self.db_url, "TEMPORAL_ADDRESS": self.address, "BLEIBE_CODEC_KEYS": CODEC_KEYS,
               "BLEIBE_TASK_QUEUE": self.task_queue, "BLEIBE_DATA_DIR": str(self.data_dir),
               # A killed worker's cached cases move on after 2 s instead of 10.
               "BLEIBE_WORKER_STICKY_TIMEOUT_SECONDS": "2", "BLEIBE_WORKER_SHUTDOWN_GRACE_SECONDS": "2"}
        return base_env(**{**env, **over})

    def start_worker(self, name: str, **env: str) -> Proc:
        return self.fleet.spawn(name, [str(BIN / "bleibe"), "worker"], self.worker_env(**env))


@pytest.fixture
def site(fleet: Fleet, tmp_path: Path) -> Site:
    """A migrated SQLite database and a running Temporal dev server of this test's own."""
    from store.migrate import upgrade

    db_url = f"sqlite+aiosqlite:///{tmp_path / 'bleibe.sqlite3'}"
    upgrade(db_url)
    port = free_port()
    s = Site(fleet, db_url, f"127.0.0.1:{port}", port, tmp_path / "temporal.sqlite", tmp_path / "data",
             f"rel-{uuid.uuid4().hex[:8]}")
    s.data_dir.mkdir()
    s.start_server()
    return s


@asynccontextmanager
async def api_for(settings: Any, temporal_client: Any = None) -> AsyncIterator[Any]:
    """The API app in this process (its lifespan running) for `settings`."""
    from api.app import create_app

    application = create_app(settings, temporal_client=temporal_client)
    async with application.router.lifespan_context(application):
        yield application


async def user_api(application: Any, sessions: Any, role: str, unit: str = "dresden") -> Api:
    """An authenticated client of `application` for a new user with `role`."""
    from store.users import create_user

    async with sessions() as s:
        user, token = await create_user(s, name=f"{role}-{uuid.uuid4().hex[:8]}", role=role, unit=unit)
        await s.commit()
    return Api(application, token, user)


async def wait_http_ready(url: str, proc: Proc, timeout: float = 90) -> None:
    """Poll /readyz until database, Temporal and a worker are there."""
    import asyncio

    deadline = time.monotonic() + timeout
    last = ""
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() < deadline:
            assert proc.running, proc.tail()
            try:
                r = await http.get(f"{url}/readyz")
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            await asyncio.sleep(0.3)
    raise AssertionError(f"{proc.name} not ready within {timeout} s: {last}\n{proc.tail()}")
