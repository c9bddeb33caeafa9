"""Stuck cases and repair against a real worker, dev server and database (API.md "Ops and reports")."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.ops_service import stuck_cases
from core.settings import Settings
from schemas.case import CaseState
from store.models import AuditEvent, Case, OutboxMessage
from tests.api.ops_fixtures import plant_case, plant_many, plant_user, private_database
from tests.conftest import Api, complete_checklist, new_case


async def _wait(predicate: Any, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.1)


def _for(items: list[dict[str, Any]], cid: str) -> list[str]:
    return [s["reason"] for s in items if s["case_id"] == cid]


async def test_missed_document_deadline_is_stuck_and_notified(counselor: Api, liaison: Api, ops: Api, lead: Api,
                                                              sessions: Any) -> None:
    case = await new_case(counselor)
    cid = case["id"]
    case = await counselor.act(cid, "complete_intake", {"pathway": "25b"})
    case = await complete_checklist(counselor, case)
    await counselor.act(cid, "submit_to_authority")
    due_at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    await liaison.act(cid, "request_documents", {"documents": ["payslips"], "due_at": due_at})

    async def overdue() -> bool:
        return bool((await counselor.get(f"/api/v1/cases/{cid}")).json()["status"] == "overdue")

    await _wait(overdue)
    r = await ops.get("/api/v1/ops/stuck?fresh=true")
    assert r.status_code == 200, r.text
    entry = next(s for s in r.json() if s["case_id"] == cid)
    assert entry["reason"] == "missed_deadline" and entry["stage"] == "document_collection"
    assert entry["reference"] == case["reference"] and "Unterlagenfrist" in entry["detail"]
    assert datetime.fromisoformat(entry["since"]) == datetime.fromisoformat(due_at)
    assert _for((await lead.get("/api/v1/ops/stuck?fresh=true")).json(), cid) == ["missed_deadline"]
    assert (await counselor.get("/api/v1/ops/stuck?fresh=true")).status_code == 403
    async with sessions() as s:  # the workflow's notification waits in the outbox for the sender
        kinds = set(await s.scalars(select(OutboxMessage.kind).where(OutboxMessage.case_id == cid)))
    assert "deadline_missed" in kinds


async def test_stage_sla_with_a_tiny_sla(counselor: Api, sessions: Any, settings: Settings) -> None:
    case = await new_case(counselor)
    await asyncio.sleep(1.0)
    tiny = settings.model_copy(update={"stage_sla_days_raw": "intake=0.00001,decision=1"})  # ~0.9 s in intake
    async with sessions() as s:
        found = [f for f in await stuck_cases(s, None, tiny) if f.case_id == case["id"]]
        assert [f.reason for f in found] == ["stage_sla"]
        assert found[0].stage == "intake" and "erlaubt: 1e-05 Tage" in found[0].detail
        assert [f for f in await stuck_cases(s, None, settings) if f.case_id == case["id"]] == []


async def test_lost_workflow_is_found_and_restarted_twice_safely(counselor: Api, ops: Api, liaison: Api,
                                                                 dev_env: WorkflowEnvironment,
                                                                 sessions: Any) -> None:
    case = await new_case(counselor)
    cid = case["id"]
    await counselor.act(cid, "complete_intake", {"pathway": "25b"})
    await dev_env.client.get_workflow_handle(cid).terminate("ops test: lost workflow")
    stuck = (await ops.get("/api/v1/ops/stuck?fresh=true")).json()
    assert _for(stuck, cid) == ["workflow_missing"]
    assert "terminated" in next(s for s in stuck if s["case_id"] == cid)["detail"]

    assert (await liaison.post(f"/api/v1/ops/cases/{cid}/repair")).status_code == 403
    r = await ops.post(f"/api/v1/ops/cases/{cid}/repair")
    assert r.status_code == 200, r.text
    assert r.json()["mode"] == "restarted" and r.json()["workflow"] == "terminated"
    # The cached scan (not fresh) forgets the repaired case at once.
    assert _for((await ops.get("/api/v1/ops/stuck?limit=1000")).json(), cid) == []
    r = await ops.post(f"/api/v1/ops/cases/{cid}/repair")
    assert r.json()["mode"] == "reprojected" and r.json()["workflow"] == "running"
    assert r.json()["stage"] == "document_collection"

    desc = await dev_env.client.get_workflow_handle(cid).describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING
    state = await dev_env.client.get_workflow_handle(cid).query("state_query", result_type=CaseState)
    assert state.stage == "document_collection" and state.pathway == "25b"
    # The restarted workflow goes on where the read model stood: the next action works and numbers on.
    before = state.seq
    after = await counselor.act(cid, "record_document", {"type": "passport", "state": "received"})
    assert after["stage"] == "document_collection"
    assert (await dev_env.client.get_workflow_handle(cid).query("state_query", result_type=CaseState)).seq > before
    assert _for((await ops.get("/api/v1/ops/stuck?fresh=true")).json(), cid) == []
    async with sessions() as s:
        repairs = (await s.scalars(select(AuditEvent).where(AuditEvent.case_id == cid,
                                                            AuditEvent.action == "repair_case")
                                 .order_by(AuditEvent.id))).all()
    assert [e.details["mode"] for e in repairs] == ["restarted", "reprojected"]
    assert all(e.actor_id == ops.user.id and e.role == "ops" for e in repairs)


async def test_repair_reprojects_a_damaged_read_model(counselor: Api, ops: Api, sessions: Any) -> None:
    case = await new_case(counselor)
    cid = case["id"]
    good = await counselor.act(cid, "complete_intake", {"pathway": "25b"})
    async with sessions() as s:
        row = await s.get(Case, cid)
        seq = row.last_seq
        row.stage, row.pathway, row.last_seq, row.state = "intake", None, 0, None  # a lost projection
        await s.commit()
    for _ in range(2):
        r = await ops.post(f"/api/v1/ops/cases/{cid}/repair")
        assert r.status_code == 200, r.text
        assert r.json() == {"case_id": cid, "mode": "reprojected", "workflow": "running",
                            "stage": "document_collection", "seq": seq}
    now = (await counselor.get(f"/api/v1/cases/{cid}")).json()
    assert now["stage"] == "document_collection" and now["pathway"] == "25b"
    assert now["documents"] == good["documents"]
    assert (await ops.post("/api/v1/ops/cases/case-unknown/repair")).status_code == 404


async def test_failing_activity_is_stuck(counselor: Api, ops: Api, dev_env: WorkflowEnvironment,
                                         sessions: Any) -> None:
    from tests.api.ops_failing_workflow import FailingWorkflow, always_fails
    from workflows.sandbox import workflow_runner

    async with sessions() as s:
        row = await plant_case(s, counselor.user, stage="authority_review")
        cid = row.id
        await s.commit()
    queue = f"ops-failing-{uuid.uuid4().hex[:8]}"
    async with Worker(dev_env.client, task_queue=queue, workflows=[FailingWorkflow], activities=[always_fails],
                      workflow_runner=workflow_runner()):
        handle = await dev_env.client.start_workflow("OpsTestFailingWorkflow", id=cid, task_queue=queue)

        async def retrying() -> bool:
            pending = (await handle.describe()).raw_description.pending_activities
            return bool(pending and pending[0].attempt > 1)

        await _wait(retrying)
        stuck = (await ops.get("/api/v1/ops/stuck?fresh=true")).json()
        await handle.terminate("ops test done")
    entry = next(s for s in stuck if s["case_id"] == cid)
    assert entry["reason"] == "failing_activity" and entry["stage"] == "authority_review"
    assert "ops_test_always_fails" in entry["detail"] and "Datenbank nicht erreichbar" in entry["detail"]
    async with sessions() as s:  # leave no open case without a workflow behind for other tests
        (await s.get(Case, cid)).stage = "closed"
        await s.commit()


async def test_sql_part_finds_the_stuck_among_ten_thousand_open_cases(tmp_path: Path, settings: Settings) -> None:
    now = datetime.now(UTC)
    cases = []
    for i in range(10_000):
        entered = now - timedelta(days=100 if i % 100 == 0 else 1)  # 100 past the intake SLA (60 days)
        deadlines = []
        if i % 100 == 1:  # 100 with a missed document deadline they never moved past
            due = now - timedelta(hours=1)
            deadlines = [{"kind": "document_due", "due": due.date().isoformat(), "due_at": due.isoformat(),
                          "remind_at": None, "state": "missed", "ref": None}]
        cases.append({"id": f"case-{i}", "stage": "intake" if i % 2 == 0 else "document_collection",
                      "stage_entered_at": entered, "deadlines": deadlines, "deadline_missed": bool(deadlines)})
    async with private_database(tmp_path) as (_url, sessions):
        async with sessions() as s:
            await plant_many(s, await plant_user(s), cases)
            assert await s.scalar(select(func.count()).select_from(Case)) == 10_000
        async with sessions() as s:
            found = await stuck_cases(s, None, settings)
    assert sorted({f.reason for f in found}) == ["missed_deadline", "stage_sla"]
    assert sum(f.reason == "stage_sla" for f in found) == 100
    assert sum(f.reason == "missed_deadline" for f in found) == 100


async def test_served_scan_is_reused_and_refreshed_in_background(counselor: Api, sessions: Any, settings: Any) -> None:
    """The ops board reuses the last Temporal scan for 30 s and refreshes it behind the answer when stale."""
    from datetime import timedelta

    from temporalio.service import RPCError, RPCStatusCode

    from api import ops_service

    calls: list[str] = []

    class Handle:
        def __init__(self, cid: str) -> None:
            self.cid = cid

        async def describe(self, rpc_timeout: Any = None) -> Any:
            calls.append(self.cid)
            raise RPCError("not found", RPCStatusCode.NOT_FOUND, b"")

    class FakeClient:
        def get_workflow_handle(self, cid: str) -> Handle:
            return Handle(cid)

    client: Any = FakeClient()
    await new_case(counselor)
    async with sessions() as s:
        first = await stuck_cases(s, client, settings)
        scanned = len(calls)
        assert scanned > 0 and any(f.reason == "workflow_missing" for f in first)
        again = await stuck_cases(s, client, settings)
        assert len(calls) == scanned and again == first, "a scan younger than 30 s is reused"
        await stuck_cases(s, client, settings, max_age=timedelta(0))
        scan = ops_service._scans[(id(client), settings.task_queue)]
        assert scan.task is not None
        await scan.task
        assert len(calls) == 2 * scanned, "a stale scan is refreshed in the background"
        await stuck_cases(s, client, settings, max_age=None)
        assert len(calls) == 3 * scanned, "fresh=true waits for a new scan"
