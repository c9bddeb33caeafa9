"""Outages: Temporal or the database unreachable for a while.

While a dependency is down the API answers 503 at once and changes nothing; work already accepted by a
workflow (its projection activity) retries until the database is back, and the read model catches up;
after Temporal is back an action with the same Idempotency-Key applies exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateStage

from core.temporal import connect
from schemas.case import CaseState, RecordDocumentInput
from store.db import make_engine, make_sessionmaker
from store.models import AuditEvent, Case, IdempotencyKey, Note, Person
from tests.conftest import new_case, person
from tests.reliability.conftest import Site, api_for, user_api
from tests.reliability.helpers import act_until_done, assert_consistent, audit_actions, eventually, workflow_state

TABLES = (Case, Person, AuditEvent, Note, IdempotencyKey)


async def _counts(sessions: Any) -> dict[str, int]:
    async with sessions() as s:
        return {t.__tablename__: int(await s.scalar(select(func.count()).select_from(t)) or 0) for t in TABLES}


async def test_temporal_down_answers_503_quickly_changes_nothing_and_the_key_applies_once_after(site: Site) -> None:
    settings = site.settings
    site.start_worker("worker")
    engine = make_engine(site.db_url)
    sessions = make_sessionmaker(engine)
    client = await connect(settings)
    try:
        # The API connects by itself (no client handed in), as in production.
        async with api_for(settings) as app:
            counselor = await user_api(app, sessions, "counselor")
            case = await new_case(counselor)
            await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
            before_state = await workflow_state(client, case["id"])
            before = await _counts(sessions)

            assert site.server is not None
            site.server.stop(signal.SIGTERM)
            key = f"doc-{uuid.uuid4()}"
            body = {"type": "passport", "state": "received"}
            for attempt in range(2):
                start = time.monotonic()
                r = await counselor.post(f"/api/v1/cases/{case['id']}/actions/record_document", json=body,
                                         headers={"Idempotency-Key": key})
                assert r.status_code == 503, r.text
                assert r.headers["content-type"] == "application/problem+json" and r.headers["retry-after"]
                assert time.monotonic() - start < 10, f"attempt {attempt}: {time.monotonic() - start:.1f} s"
            start = time.monotonic()
            r = await counselor.post("/api/v1/cases", json={"person": person(), "pathway": None,
                                                            "consent_to_share": {"given": True, "date": "2026-11-02"}})
            assert r.status_code == 503, r.text
            assert time.monotonic() - start < 10
            assert await _counts(sessions) == before  # no case, person, audit row, note or key left behind

            site.start_server()  # same port, same history file
            done, _ = await act_until_done(counselor, case["id"], "record_document", body, key, timeout=60)
            again, _ = await act_until_done(counselor, case["id"], "record_document", body, key, timeout=10)
            assert again == done
            state = await assert_consistent(sessions, client, case["id"])
            assert state.seq == before_state.seq + 1
            assert (await audit_actions(sessions, case["id"])).count("record_document") == 1
    finally:
        await engine.dispose()


# ---- database outage (PostgreSQL: a database can refuse connections while the server runs) -------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throwaway, migrated PostgreSQL database (its URL); the test can lock it with `_lock_database`."""
    import psycopg

    from store.migrate import upgrade
    from tests.deploy.conftest import require_postgres

    admin = require_postgres()
    name = f"bleibe_outage_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _lock_database(url: str, locked: bool) -> None:
    """Refuse (or allow again) every connection to the database and cut the open ones."""
    import psycopg

    from tests.deploy.conftest import postgres_admin_url

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_admin_url(), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if locked else "true"}')
        if locked:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


async def test_database_down_answers_503_activities_retry_and_the_read_model_catches_up(site: Site,
                                                                                         pg_url: str) -> None:
    from tests.conftest import make_settings

    settings = make_settings(pg_url, site.data_dir, TEMPORAL_ADDRESS=site.address, BLEIBE_TASK_QUEUE=site.task_queue)
    site.start_worker("worker", DATABASE_URL=pg_url)
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    client = await connect(settings)
    try:
        async with api_for(settings, client) as app:
            counselor = await user_api(app, sessions, "counselor")
            case = await new_case(counselor)
            await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
            handle = client.get_workflow_handle(case["id"])
            before = await workflow_state(client, case["id"])

            _lock_database(pg_url, True)
            try:
                start = time.monotonic()
                r = await counselor.post(f"/api/v1/cases/{case['id']}/actions/record_document",
                                         json={"type": "passport", "state": "received"})
                assert r.status_code == 503, r.text
                assert time.monotonic() - start < 10
                assert (await workflow_state(client, case["id"])).seq == before.seq  # nothing reached the workflow

                # Work the workflow accepted while the database is away: its projection must retry.
                assert counselor.user is not None
                actor = {"user_id": counselor.user.id, "role": "counselor", "institution": "counseling"}
                update = await handle.start_update(
                    "record_document", RecordDocumentInput.model_validate(
                        {"actor": actor, "type": "payslips", "state": "received", "request_id": "outage"}),
                    id=f"outage-{uuid.uuid4()}", result_type=CaseState, wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                )

                async def retrying() -> bool:
                    pending = (await handle.describe()).raw_description.pending_activities
                    return bool(pending) and pending[0].attempt >= 2

                await eventually(retrying, timeout=20)
            finally:
                _lock_database(pg_url, False)

            state = await asyncio.wait_for(update.result(), timeout=60)
            assert state.seq == before.seq + 1
            await assert_consistent(sessions, client, case["id"])
            # And the API works again.
            after = await counselor.act(case["id"], "record_document", {"type": "passport", "state": "received"})
            assert [d["state"] for d in after["documents"] if d["type"] == "passport"] == ["received"]
            await assert_consistent(sessions, client, case["id"])
    finally:
        await engine.dispose()
