"""`make test`: the whole suite on SQLite, then the database-touching suites again on PostgreSQL.

PostgreSQL is used when BLEIBE_TEST_POSTGRES_URL or the local server at 127.0.0.1:5432 answers; on CI
(CI=true) it must answer, so a missing PostgreSQL fails the run instead of skipping half of it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
# Suites whose behaviour depends on the database dialect (all of them talk to SQL).
DB_SUITES = ["tests/api", "tests/activities", "tests/store"]


def postgres_reachable() -> bool:
    import psycopg

    url = os.environ.get("BLEIBE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    url = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def pytest(args: list[str], extra_env: dict[str, str]) -> int:
    env = {**os.environ, **extra_env}
    cmd = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    print("+", " ".join(cmd[2:]), " ".join(f"{k}={v}" for k, v in extra_env.items()), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def main() -> int:
    start = time.monotonic()
    extra = sys.argv[1:]
    status = pytest([*extra] or ["tests"], {"BLEIBE_TEST_DB": "sqlite"})
    if postgres_reachable():
        suites = [s for s in DB_SUITES if (ROOT / s).exists()]
        if suites and not extra:
            pg = pytest(suites, {"BLEIBE_TEST_DB": "postgres"})
            status = status or pg
    elif os.environ.get("CI"):
        print("PostgreSQL is not reachable on CI: the PostgreSQL half of the suite cannot run", file=sys.stderr)
        status = status or 1
    else:
        print("note: PostgreSQL not reachable; ran the SQLite suite only", file=sys.stderr)
    print(f"make test finished in {time.monotonic() - start:.0f} s with status {status}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
