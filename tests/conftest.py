"""Shared fixtures: Temporal test environments (time-skipping and one dev server per session), a migrated
throwaway database (SQLite, or PostgreSQL with BLEIBE_TEST_DB=postgres), the API app with a real worker.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("BLEIBE_LOG_FORMAT", "json")

from core.codec import new_key_spec  # noqa: E402
from core.settings import Settings  # noqa: E402

CODEC_KEYS = new_key_spec("test1")

_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # The Temporal core runtime can abort the interpreter at exit (sdk-python#300, exit 134) after every
    # test passed; end with pytest's own status instead, never hiding a failure.
    if os.environ.get("BLEIBE_TEST_HARD_EXIT", "1") == "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)


# ---- settings and database ---------------------------------------------------------------------------


def postgres_admin_url() -> str:
    return os.environ.get("BLEIBE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A fresh, migrated database for this session: SQLite file, or a throwaway PostgreSQL database."""
    from store.migrate import upgrade

    if os.environ.get("BLEIBE_TEST_DB") == "postgres":
        import psycopg

        admin = postgres_admin_url().replace("postgresql+psycopg://", "postgresql://")
        name = f"bleibe_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = admin.rsplit("/", 1)[0]
        url = f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
        upgrade(url)
        yield url
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("db") / "bleibe.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url


def make_settings(db_url: str, data_dir: Path, **over: Any) -> Settings:
    env = {
        "DATABASE_URL": db_url,
        "BLEIBE_DATA_DIR": str(data_dir),
        "BLEIBE_CODEC_KEYS": CODEC_KEYS,
        "BLEIBE_LOG_FORMAT": "json",
        **{k: str(v) for k, v in over.items()},
    }
    return Settings(**{k: v for k, v in env.items()})  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(db_url, tmp_path_factory.mktemp("data"), BLEIBE_TASK_QUEUE=f"tq-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
async def sessions(settings: Settings) -> AsyncIterator[Any]:
    from store.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


# ---- Temporal ----------------------------------------------------------------------------------------


def _converter(settings: Settings) -> Any:
    from core.temporal import data_converter

    return data_converter(settings)


@pytest.fixture(scope="session")
async def ts_env(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server: every timer is tested here."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"), data_converter=_converter(settings)
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WorkflowEnvironment]:
    """One real dev server per session, with the custom search attributes and a file database."""
    from core.temporal import SEARCH_ATTRIBUTES

    keys: list[SearchAttributeKey[Any]] = [
        SearchAttributeKey.for_datetime(n) if t == "Datetime" else SearchAttributeKey.for_keyword(n)
        for n, t in SEARCH_ATTRIBUTES.items()
    ]
    db_file = tmp_path_factory.mktemp("temporal") / "temporal.sqlite"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=_converter(settings),
        search_attributes=keys,
        dev_server_extra_args=["--db-filename", str(db_file)],
        dev_server_log_level="error",
    )
    env.db_file = db_file  # type: ignore[attr-defined]
    yield env
    await env.shutdown()


def new_worker(client: Client, sessions: Any, settings: Settings, task_queue: str | None = None) -> Worker:
    from worker import build_worker

    return build_worker(client, sessions, settings, task_queue=task_queue or settings.task_queue)


@pytest.fixture(scope="session")
async def dev_worker(dev_env: WorkflowEnvironment, sessions: Any, settings: Settings) -> AsyncIterator[Worker]:
    """A real worker (real activities, real database) polling the session's task queue on the dev server."""
    w = new_worker(dev_env.client, sessions, settings)
    async with w:
        yield w


# ---- API ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def app(settings: Settings, dev_env: WorkflowEnvironment, dev_worker: Worker) -> AsyncIterator[Any]:
    from api.app import create_app

    application = create_app(settings, temporal_client=dev_env.client)
    async with application.router.lifespan_context(application):
        yield application


class Api:
    """An authenticated test client for one user."""

    def __init__(self, app: Any, token: str | None, user: Any = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                      headers=headers, timeout=60)
        self.user = user

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.http.get(url, **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        return await self.http.post(url, **kw)

    async def act(self, case_id: str, action: str, body: dict[str, Any] | None = None, *, key: str | None = None,
                  expect: int = 200) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else {}
        r = await self.http.post(f"/api/v1/cases/{case_id}/actions/{action}", json=body or {}, headers=headers)
        assert r.status_code == expect, f"{action}: {r.status_code} {r.text}"
        return dict(r.json())


@pytest.fixture(scope="session")
async def make_api(app: Any, sessions: Any) -> Any:
    from store.users import create_user

    async def make(role: str, unit: str | None = "dresden", password: str | None = None) -> Api:
        async with sessions() as s:
            user, token = await create_user(s, name=f"{role}-{uuid.uuid4().hex[:8]}", role=role, unit=unit,
                                            password=password)
            await s.commit()
        return Api(app, token, user)

    return make


@pytest.fixture(scope="session")
async def counselor(make_api: Any) -> Api:
    return await make_api("counselor")


@pytest.fixture(scope="session")
async def liaison(make_api: Any) -> Api:
    return await make_api("authority_liaison")


@pytest.fixture(scope="session")
async def lead(make_api: Any) -> Api:
    return await make_api("authority_lead")


@pytest.fixture(scope="session")
async def ops(make_api: Any) -> Api:
    return await make_api("ops")


def person(**over: Any) -> dict[str, Any]:
    """A person who meets §25b today (6 years of prior residence, A2, work, civic test)."""
    p: dict[str, Any] = {
        "reference": f"T-{uuid.uuid4().hex[:10]}",
        "given_name": "Testa", "family_name": "Person",
        "birth_date": "1990-04-17", "nationality": "AFG",
        "entry_date": "2016-09-01", "duldung_since": "2017-03-10",
        "duldung_valid_until": "2027-06-30", "duldung_type": "regular",
        "minor_children": 0, "language_level": "A2",
        "school": {"attending": False, "years_successful": 0, "qualification": None},
        "employment": {"employed": True, "hours_per_week": 38, "since": "2021-05-01"},
        "livelihood_secured": "largely", "identity_clarified": True, "passport_status": "valid",
        "civic_test_passed": True, "criminal_record": {"convicted": False, "day_fines": 0},
    }
    p.update(over)
    return p


async def new_case(api: Api, consent: bool = True, pathway: str | None = None, **over: Any) -> dict[str, Any]:
    body = {"person": person(**over), "consent_to_share": {"given": consent, "date": "2026-11-02"}, "pathway": pathway}
    r = await api.post("/api/v1/cases", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def complete_checklist(api: Api, case: dict[str, Any]) -> dict[str, Any]:
    for d in case["documents"]:
        if d["state"] not in ("received", "verified", "waived"):
            case = await api.act(case["id"], "record_document", {"type": d["type"], "state": "received"})
    return case
