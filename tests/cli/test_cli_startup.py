"""The `bleibe` command: users, and start-up problems reported in one clear line (issue 2)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BLEIBE = str(Path(sys.executable).parent / "bleibe")


def run(args: list[str], tmp_path: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "BLEIBE_DATA_DIR": str(tmp_path), "BLEIBE_LOG_FORMAT": "json", **env}
    full.pop("DATABASE_URL", None) if "DATABASE_URL" not in env else None
    full.pop("TEMPORAL_ADDRESS", None) if "TEMPORAL_ADDRESS" not in env else None
    return subprocess.run([BLEIBE, *args], env=full, capture_output=True, text=True, input=stdin, timeout=120)


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = run(["--help"], tmp_path)
    assert out.returncode == 0
    for cmd in ("users", "migrate", "worker", "api", "run"):
        assert cmd in out.stdout


def test_users_create_prints_token_last_and_stores_it_hashed(tmp_path: Path) -> None:
    out = run(["users", "create", "--name", "anna", "--role", "counselor", "--unit", "dd"], tmp_path)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("blb_") and len(token) > 40
    db = (tmp_path / "bleibe.sqlite3").read_bytes()
    assert token.encode() not in db, "tokens are stored hashed"
    out = run(["users", "create", "--name", "ben", "--role", "authority_liaison", "--password-stdin"], tmp_path,
              stdin="ein-langes-passwort\n")
    assert out.returncode == 0, out.stderr
    assert b"ein-langes-passwort" not in (tmp_path / "bleibe.sqlite3").read_bytes()
    dup = run(["users", "create", "--name", "anna", "--role", "counselor"], tmp_path)
    assert dup.returncode == 1 and "exists already" in dup.stderr and "Traceback" not in dup.stderr
    bad = run(["users", "create", "--name", "x", "--role", "king"], tmp_path)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    rev = run(["users", "revoke", "anna"], tmp_path)
    assert rev.returncode == 0 and "revoked" in rev.stdout
    assert run(["users", "revoke", "nobody"], tmp_path).returncode == 1


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    out = run(["users", "create", "--name", "a", "--role", "ops"], tmp_path,
              DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "database not reachable" in lines[0] and "DATABASE_URL" in lines[0]


@pytest.fixture
def busy_port() -> tuple[socket.socket, int]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s, s.getsockname()[1]  # type: ignore[misc]
    s.close()


def test_port_in_use_is_reported(tmp_path: Path, busy_port: tuple[socket.socket, int]) -> None:
    out = run(["run"], tmp_path, BLEIBE_PORT=str(busy_port[1]))
    assert out.returncode == 1
    assert f"port {busy_port[1]}" in out.stderr and "in use" in out.stderr and "Traceback" not in out.stderr


def test_unreachable_temporal_is_reported(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    api_port = free.getsockname()[1]
    free.close()
    out = run(["run"], tmp_path, TEMPORAL_ADDRESS=f"127.0.0.1:{port}", BLEIBE_PORT=str(api_port))
    assert out.returncode == 1
    assert "Temporal is not reachable" in out.stderr and "TEMPORAL_ADDRESS" in out.stderr
    assert "Traceback" not in out.stderr
