"""The audit log: append-only in the database itself; who, role, institution, action, time, request id."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from store.models import AuditEvent
from tests.conftest import Api, new_case


async def test_audit_rows_cannot_be_updated_or_deleted(counselor: Api, sessions: Any) -> None:
    case = await new_case(counselor)
    await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})  # returns once projected
    async with sessions() as s:
        row_id = await s.scalar(select(AuditEvent.id).where(AuditEvent.case_id == case["id"],
                                                            AuditEvent.action == "create_case"))
    assert row_id is not None
    attempts = [
        update(AuditEvent).where(AuditEvent.id == row_id).values(action="tampered"),
        delete(AuditEvent).where(AuditEvent.id == row_id),
        text("DELETE FROM audit_log"),
    ]
    for stmt in attempts:
        async with sessions() as s:
            with pytest.raises(DBAPIError) as exc:
                await s.execute(stmt)
                await s.commit()
            assert "append-only" in str(exc.value)
            await s.rollback()
    async with sessions() as s:
        row = await s.get(AuditEvent, row_id)
        assert row is not None and row.action == "create_case"


async def test_actions_record_actor_role_institution_time_and_request_id(counselor: Api, sessions: Any) -> None:
    case = await new_case(counselor)
    rid = f"req-{uuid.uuid4().hex}"
    r = await counselor.post(f"/api/v1/cases/{case['id']}/actions/complete_intake", json={"pathway": "25b"},
                             headers={"X-Request-ID": rid})
    assert r.status_code == 200 and r.headers["X-Request-ID"] == rid
    async with sessions() as s:
        row = await s.scalar(select(AuditEvent).where(AuditEvent.case_id == case["id"],
                                                      AuditEvent.action == "complete_intake"))
    assert row is not None
    assert (row.actor_id, row.role, row.institution, row.request_id) == (counselor.user.id, "counselor",
                                                                         "counseling", rid)
    assert row.at is not None and row.from_stage == "intake" and row.to_stage == "document_collection"


async def test_reads_by_the_other_institution_are_logged(counselor: Api, liaison: Api, ops: Api,
                                                         sessions: Any) -> None:
    from tests.api.test_privacy_visibility import submitted_case

    case = await submitted_case(counselor)
    rid = f"read-{uuid.uuid4().hex}"
    assert (await liaison.get(f"/api/v1/cases/{case['id']}", headers={"X-Request-ID": rid})).status_code == 200
    assert (await ops.get(f"/api/v1/cases/{case['id']}/timeline")).status_code == 200
    assert (await counselor.get(f"/api/v1/cases/{case['id']}")).status_code == 200
    async with sessions() as s:
        reads = (await s.scalars(select(AuditEvent).where(AuditEvent.case_id == case["id"],
                                                          AuditEvent.action == "read_case"))).all()
    by_actor = {r.actor_id: r for r in reads}
    assert set(by_actor) == {liaison.user.id, ops.user.id}  # the counseling service's own reads are not logged
    liaison_read = by_actor[liaison.user.id]
    assert (liaison_read.role, liaison_read.institution, liaison_read.request_id) == ("authority_liaison",
                                                                                      "authority", rid)
