"""Checks shared by the reliability tests: the audit log and the read model against the workflow."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select
from temporalio.client import Client

from schemas.case import CaseState
from store.models import AuditEvent, Case
from tests.conftest import Api


async def act_until_done(api: Api, case_id: str, action: str, body: dict[str, Any], key: str,
                         timeout: float = 120) -> tuple[dict[str, Any], int]:
    """Post an action with an Idempotency-Key, retrying while the service answers 503; (result, 503s seen)."""
    deadline = time.monotonic() + timeout
    unavailable = 0
    while True:
        r = await api.post(f"/api/v1/cases/{case_id}/actions/{action}", json=body, headers={"Idempotency-Key": key})
        if r.status_code != 503 or time.monotonic() > deadline:
            assert r.status_code == 200, f"{action} on {case_id}: {r.status_code} {r.text}"
            return dict(r.json()), unavailable
        unavailable += 1
        await asyncio.sleep(0.5)


async def audit_seqs(sessions: Any, case_id: str) -> list[int]:
    async with sessions() as s:
        rows = await s.scalars(select(AuditEvent.seq).where(AuditEvent.case_id == case_id,
                                                            AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq))
        return [int(x) for x in rows.all()]


async def audit_actions(sessions: Any, case_id: str) -> list[str]:
    async with sessions() as s:
        rows = await s.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id,
                                                               AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq))
        return list(rows.all())


async def last_seq(sessions: Any, case_id: str) -> int:
    async with sessions() as s:
        row = await s.get(Case, case_id)
        assert row is not None, case_id
        return row.last_seq


async def workflow_state(client: Client, case_id: str) -> CaseState:
    return await client.get_workflow_handle(case_id).query("state_query", result_type=CaseState)


async def assert_consistent(sessions: Any, client: Client, case_id: str) -> CaseState:
    """Audit seqs are exactly 1..N and the read model stands at the workflow's seq N."""
    state = await workflow_state(client, case_id)
    seqs = await audit_seqs(sessions, case_id)
    assert seqs == list(range(1, state.seq + 1)), f"{case_id}: audit seqs {seqs}, workflow seq {state.seq}"
    assert await last_seq(sessions, case_id) == state.seq
    return state


async def eventually(check: Any, timeout: float = 60, interval: float = 0.3) -> Any:
    """Call the async `check` until it returns a truthy value; fail with its last result after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last: {last!r})")
