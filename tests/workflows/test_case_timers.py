"""Every CaseWorkflow timer, fired and cancelled, in the time-skipping environment (DESIGN.md "Timers")."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from rules.checklists import checklist
from rules.deadlines import appeal_deadline
from schemas.case import (
    AcknowledgeInput,
    CompleteIntakeInput,
    DecideInput,
    RecordDocumentInput,
    RequestDocumentsInput,
    SubmitToAuthorityInput,
    TimerConfig,
    WithdrawInput,
)
from tests.workflows.helpers import COUNSELOR, LIAISON, Recorder, case_worker, start_case, state, update

CONFIG = TimerConfig(eligibility_lead_days=28, document_reminder_days=7, review_sla_days=28,
                     duldung_reminder_days=21, appeal_reminder_days=7, upsert_search_attributes=False)


async def today(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).date()


def deadline(s: Any, kind: str) -> Any:
    return [d for d in s.deadlines if d.kind == kind][-1]


async def to_review(h: Any) -> None:
    await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25b"))
    for t in checklist("25b"):
        await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type=t, state="received"))
    await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))


async def test_eligibility_wait_fires_and_moves_on(ts_env: WorkflowEnvironment) -> None:
    """A not-yet-eligible pathway waits in intake until its date minus the lead time, then notifies."""
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, config=CONFIG)
        eligible = await today(ts_env) + timedelta(days=60)
        s = await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25b",
                                                                  eligible_from=eligible))
        assert s.stage == "intake" and s.status == "waiting"
        assert deadline(s, "eligibility_date").due == eligible
        await ts_env.sleep(timedelta(days=30))
        assert (await state(h)).stage == "intake", "lead time is 28 days: not yet after 30 of 60"
        await ts_env.sleep(timedelta(days=3))
        s = await state(h)
        assert s.stage == "document_collection" and s.status == "active"
        assert deadline(s, "eligibility_date").state == "met"
        assert "eligibility_reached" in rec.actions(h.id)
        assert [n.recipient_role for n in rec.notifications[h.id] if n.kind == "eligibility_reached"] == ["counselor"]
        await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))


async def test_eligibility_wait_cancelled_by_withdrawal(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, config=CONFIG)
        eligible = await today(ts_env) + timedelta(days=90)
        await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25b", eligible_from=eligible))
        s = await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))
        assert deadline(s, "eligibility_date").state == "cancelled"
        await h.result()
        assert "eligibility_reached" not in rec.actions(h.id)


async def test_document_deadline_reminds_then_goes_overdue(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, config=CONFIG)
        await to_review(h)
        due = await today(ts_env) + timedelta(days=20)
        await update(h, "request_documents", RequestDocumentsInput(actor=LIAISON, documents=["payslips"], due=due))
        await ts_env.sleep(timedelta(days=14))  # reminder 7 days before the end of `due`
        s = await state(h)
        assert deadline(s, "document_due").state == "reminded" and s.status == "active"
        await ts_env.sleep(timedelta(days=7))
        s = await state(h)
        assert deadline(s, "document_due").state == "missed"
        assert s.status == "overdue"
        assert rec.actions(h.id).count("deadline_missed") == 1
        assert [n.kind for n in rec.notifications[h.id]].count("deadline_reminder") == 1
        # handing the documents in afterwards clears the overdue status
        await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type="payslips", state="received"))
        s = await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
        assert s.status == "active" and s.stage == "authority_review"
        await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))


async def test_document_deadline_met_cancels_timer(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, config=CONFIG)
        await to_review(h)
        due = await today(ts_env) + timedelta(days=20)
        await update(h, "request_documents", RequestDocumentsInput(actor=LIAISON, documents=["payslips"], due=due))
        await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type="payslips", state="received"))
        s = await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
        assert deadline(s, "document_due").state == "met"
        await update(h, "acknowledge", AcknowledgeInput(actor=LIAISON, file_number="ABH-2"))
        await ts_env.sleep(timedelta(days=25))
        assert "deadline_missed" not in rec.actions(h.id)
        assert "deadline_reminder" not in rec.actions(h.id)
        await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))


async def test_review_sla_escalates_to_lead(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, config=CONFIG)
        await to_review(h)
        await ts_env.sleep(timedelta(days=27))
        assert "review_escalated" not in rec.actions(h.id)
        await ts_env.sleep(timedelta(days=2))
        s = await state(h)
        assert deadline(s, "review_sla").state == "missed"
        assert [n.recipient_role for n in rec.notifications[h.id] if n.kind == "review_escalated"] == ["authority_lead"]
        await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))


async def test_review_sla_restarted_by_authority_action(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, config=CONFIG)
        await to_review(h)
        await ts_env.sleep(timedelta(days=20))
        await update(h, "acknowledge", AcknowledgeInput(actor=LIAISON, file_number="ABH-3"))
        await ts_env.sleep(timedelta(days=20))  # 40 days in review, but 20 since the authority acted
        assert "review_escalated" not in rec.actions(h.id)
        s = await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))
        assert all(d.state != "pending" for d in s.deadlines if d.kind == "review_sla")
        await h.result()
        assert "review_escalated" not in rec.actions(h.id)


async def test_duldung_expiry_reminder_and_miss(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        valid_until = await today(ts_env) + timedelta(days=30)
        h = await start_case(ts_env.client, tq, config=CONFIG, duldung_valid_until=valid_until)
        s = await state(h)
        assert deadline(s, "duldung_expiry").due == valid_until
        await ts_env.sleep(timedelta(days=10))  # 21 days before: reminder
        assert deadline(await state(h), "duldung_expiry").state == "reminded"
        await ts_env.sleep(timedelta(days=22))
        assert deadline(await state(h), "duldung_expiry").state == "missed"
        kinds = [(n.kind, n.details["kind"]) for n in rec.notifications[h.id]]
        assert ("deadline_reminder", "duldung_expiry") in kinds and ("deadline_missed", "duldung_expiry") in kinds
        await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))


async def test_appeal_deadline_after_refusal_then_workflow_ends(ts_env: WorkflowEnvironment) -> None:
    """§§70, 74 VwGO: one month from notification, moved off weekends/holidays (§193 BGB); then the case ends."""
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, config=CONFIG)
        await to_review(h)
        notified = await today(ts_env)
        s = await update(h, "decide", DecideInput(actor=LIAISON, outcome="refused", notified_on=notified))
        expected = appeal_deadline(notified, "SN").end
        assert deadline(s, "appeal_deadline").due == expected
        result = await h.result()  # time skips to the end of the appeal period
        assert deadline(result, "appeal_deadline").state == "missed"
        actions = rec.actions(h.id)
        assert actions[-1] == "appeal_deadline_passed"
        assert "deadline_reminder" in actions
        assert (await ts_env.get_current_time()).date() >= expected


async def test_grant_ends_workflow_without_waiting(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, config=CONFIG,
                             duldung_valid_until=await today(ts_env) + timedelta(days=100))
        await to_review(h)
        await update(h, "decide", DecideInput(actor=LIAISON, outcome="granted", permit="25b",
                                              valid_until=date(2029, 1, 31)))
        result = await h.result()
        assert result.status == "closed"
        assert all(d.state in ("met", "cancelled") for d in result.deadlines)
        # nothing waited for after the grant: the last event is the decision itself
        assert rec.actions(h.id)[-1] == "decide"
