"""Long-lived cases: continue-as-new keeps state and event order; search attributes stay current."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from rules.checklists import checklist
from schemas.case import CompleteIntakeInput, RecordDocumentInput, SubmitToAuthorityInput, TimerConfig, WithdrawInput
from tests.workflows.helpers import COUNSELOR, Recorder, case_worker, start_case, state, update


async def test_continue_as_new_keeps_state_and_sequence(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, config=TimerConfig(upsert_search_attributes=False,
                                                                   max_history_events=60))
        first_run = (await h.describe()).run_id
        await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25b"))
        for i in range(25):
            st = "received" if i % 2 == 0 else "verified"
            await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type="passport", state=st))
        for _ in range(50):
            if (await h.describe()).run_id != first_run:
                break
            await asyncio.sleep(0.1)
        desc = await ts_env.client.get_workflow_handle(h.id).describe()
        assert desc.run_id != first_run, "the workflow continued as new"
        s = await state(ts_env.client.get_workflow_handle(h.id))
        assert s.stage == "document_collection" and s.pathway == "25b"
        assert next(d for d in s.documents if d.type == "passport").state == "received"
        seqs = [e.seq for e in rec.events[h.id]]
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 27
        latest = ts_env.client.get_workflow_handle(h.id)
        await update(latest, "withdraw", WithdrawInput(actor=COUNSELOR))
        assert (await latest.result())["stage"] == "closed"


async def test_search_attributes_follow_the_case(dev_env: WorkflowEnvironment) -> None:
    """Stage, status, pathway, unit and next deadline are visible to ops in Temporal's visibility store."""
    rec = Recorder()
    async with case_worker(dev_env.client, rec) as tq:
        h = await start_case(dev_env.client, tq, config=TimerConfig(), duldung_valid_until=None)
        await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25b"))
        for t in checklist("25b"):
            await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type=t, state="received"))
        await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
        query = f"WorkflowId = '{h.id}' AND BleibeStage = 'authority_review' AND BleibePathway = '25b'"
        found = []
        for _ in range(100):
            found = [w async for w in dev_env.client.list_workflows(query)]
            if found:
                break
            await asyncio.sleep(0.1)
        assert [w.id for w in found] == [h.id]
        desc = await h.describe()
        sa = desc.typed_search_attributes
        values = {p.key.name: p.value for p in sa}
        assert values["BleibeStatus"] == "active" and values["BleibeUnit"] == "dd"
        s = await state(h)
        sla = next(d for d in s.deadlines if d.kind == "review_sla")
        assert abs(values["BleibeNextDeadline"] - sla.due_at) < timedelta(seconds=1)
        await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))
