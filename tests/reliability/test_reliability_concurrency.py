"""Many clients acting on one case at the same moment: the workflow serialises the updates.

No action is lost, none is applied twice under one Idempotency-Key, and racing stage changes leave a
history in which every step was allowed from the stage before it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from rules.checklists import checklist
from rules.lifecycle import Verdict, check
from store.models import AuditEvent
from tests.conftest import Api, complete_checklist, new_case
from tests.reliability.helpers import assert_consistent, audit_actions

CLIENTS = 20


async def _post(api: Api, case_id: str, action: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return await api.post(f"/api/v1/cases/{case_id}/actions/{action}", json=body, headers=headers)


async def _assert_valid_history(sessions: Any, case_id: str) -> list[AuditEvent]:
    """Every stage change starts where the last one ended and was allowed for its actor in that stage."""
    async with sessions() as s:
        events = list((await s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                                 AuditEvent.seq.is_not(None))
                                       .order_by(AuditEvent.seq))).all())
    stage: str | None = None
    for e in events:
        if e.action == "create_case":
            stage = e.to_stage
            continue
        assert stage is not None
        if e.role != "system":
            assert check(e.role, e.institution, e.action, stage) is Verdict.ALLOWED, (e.action, stage)
        if e.to_stage is not None:
            assert e.from_stage == stage, f"seq {e.seq}: {e.action} from {e.from_stage}, but the case was in {stage}"
            stage = e.to_stage
    return events


async def test_twenty_clients_record_documents_at_once_and_none_is_lost(counselor: Api, sessions: Any,
                                                                        dev_env: WorkflowEnvironment) -> None:
    case = await new_case(counselor)
    await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    docs = checklist("25b")
    bodies = [{"type": docs[i % len(docs)], "state": ("received", "verified")[i % 2]} for i in range(CLIENTS)]
    responses = await asyncio.gather(*[
        _post(counselor, case["id"], "record_document", b, key=f"doc-{i}-{uuid.uuid4()}") for i, b in enumerate(bodies)
    ])
    assert [r.status_code for r in responses] == [200] * CLIENTS, [r.text for r in responses if r.status_code != 200]
    assert (await audit_actions(sessions, case["id"])).count("record_document") == CLIENTS
    await assert_consistent(sessions, dev_env.client, case["id"])
    await _assert_valid_history(sessions, case["id"])


async def test_one_idempotency_key_from_twenty_clients_applies_exactly_once(counselor: Api, sessions: Any,
                                                                           dev_env: WorkflowEnvironment) -> None:
    case = await new_case(counselor)
    await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    key = f"note-{uuid.uuid4()}"
    body = {"text": "Rückruf vereinbart", "visibility": "shared"}
    responses = await asyncio.gather(*[_post(counselor, case["id"], "add_note", body, key) for _ in range(CLIENTS)])
    assert [r.status_code for r in responses] == [200] * CLIENTS, [r.text for r in responses if r.status_code != 200]
    assert len({r.text for r in responses}) == 1  # every client got the one result
    again = await _post(counselor, case["id"], "add_note", body, key)
    assert again.status_code == 200 and again.json() == responses[0].json()
    assert (await audit_actions(sessions, case["id"])).count("add_note") == 1
    await assert_consistent(sessions, dev_env.client, case["id"])


async def test_racing_submit_and_withdraw_never_make_an_invalid_transition(counselor: Api, sessions: Any,
                                                                          dev_env: WorkflowEnvironment) -> None:
    case = await new_case(counselor)
    case = await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    await complete_checklist(counselor, case)
    actions = ["submit_to_authority", "withdraw"] * (CLIENTS // 2)
    bodies = {"submit_to_authority": {}, "withdraw": {"reason": "zieht zurück"}}
    responses = await asyncio.gather(*[_post(counselor, case["id"], a, bodies[a]) for a in actions])
    by_action: dict[str, list[int]] = {"submit_to_authority": [], "withdraw": []}
    for a, r in zip(actions, responses, strict=True):
        assert r.status_code in (200, 409), f"{a}: {r.status_code} {r.text}"
        by_action[a].append(r.status_code)
    assert by_action["withdraw"].count(200) == 1  # allowed in every open stage, once: then the case is closed
    assert by_action["submit_to_authority"].count(200) <= 1
    events = await _assert_valid_history(sessions, case["id"])
    applied = [e.action for e in events]
    assert applied.count("withdraw") == 1
    assert applied.count("submit_to_authority") == by_action["submit_to_authority"].count(200)
    assert applied[-1] == "withdraw"
    state = await assert_consistent(sessions, dev_env.client, case["id"])
    assert state.stage == "closed"


async def test_an_action_arriving_with_the_start_comes_after_create_case(sessions: Any, settings: Any,
                                                                         dev_env: WorkflowEnvironment) -> None:
    """Start and update in the worker's first task (no worker yet): the update must not become event 1."""
    from api.casework import timer_config
    from schemas.case import Actor, CaseState, CaseWorkflowInput, CompleteIntakeInput
    from tests.conftest import new_worker

    tq = f"race-{uuid.uuid4().hex[:8]}"
    cid = f"case-{uuid.uuid4()}"
    actor = Actor(user_id=1, role="counselor", institution="counseling", unit="dresden")
    handle = await dev_env.client.start_workflow(
        "CaseWorkflow", CaseWorkflowInput(case_id=cid, unit="dresden", created_by=actor, consent_given=True,
                                          config=timer_config(settings)),
        id=cid, task_queue=tq, result_type=CaseState)
    update = asyncio.create_task(handle.execute_update("complete_intake", CompleteIntakeInput(
        actor=actor, pathway="25b", request_id="race"), id="race", result_type=CaseState))
    await asyncio.sleep(1)  # the update waits in the server with the start: both reach the worker at once
    async with new_worker(dev_env.client, sessions, settings, task_queue=tq):
        state = await asyncio.wait_for(update, timeout=30)
        await handle.cancel()
    assert state.stage == "document_collection"
    assert await audit_actions(sessions, cid) == ["create_case", "complete_intake"]
