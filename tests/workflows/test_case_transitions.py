"""CaseWorkflow transitions and refused transitions (time-skipping server, recording projection)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from rules.checklists import checklist
from schemas.case import (
    AcknowledgeInput,
    AddNoteInput,
    CompleteIntakeInput,
    DecideInput,
    MeetingOutcomeInput,
    PrepareDecisionInput,
    RecordDocumentInput,
    RecordInterimInput,
    ReferToMeetingInput,
    RequestDocumentsInput,
    RevokeConsentInput,
    SubmitToAuthorityInput,
    WithdrawInput,
)
from tests.workflows.helpers import (
    COUNSELOR,
    LEAD,
    LIAISON,
    OPS,
    Recorder,
    case_worker,
    refused,
    start_case,
    state,
    update,
)


async def to_review(handle: Any, pathway: str = "25b") -> Any:
    await update(handle, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway=pathway))
    for t in checklist(pathway):
        await update(handle, "record_document", RecordDocumentInput(actor=COUNSELOR, type=t, state="received"))
    return await update(handle, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))


async def test_full_lifecycle_to_grant(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq)
        s = await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25b"))
        assert s.stage == "document_collection"
        assert [d.type for d in s.documents] == checklist("25b")
        assert all(d.state == "missing" for d in s.documents)
        for t in checklist("25b"):
            s = await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type=t, state="received"))
        s = await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
        assert s.stage == "authority_review" and s.submitted_at is not None
        assert any(d.kind == "review_sla" and d.state == "pending" for d in s.deadlines)
        s = await update(h, "acknowledge", AcknowledgeInput(actor=LIAISON, file_number="ABH-1"))
        assert s.authority_file_number == "ABH-1"
        s = await update(h, "refer_to_meeting", ReferToMeetingInput(actor=LIAISON, meeting_id="meeting-2030-01-08"))
        assert s.stage == "joint_meeting" and s.meeting_id == "meeting-2030-01-08"
        await h.signal("meeting_outcome", MeetingOutcomeInput(meeting_id="meeting-2030-01-08",
                                                              outcome="decision_ready", actor=LEAD))
        # a repeated signal for the same meeting changes nothing (exactly once)
        await h.signal("meeting_outcome", MeetingOutcomeInput(meeting_id="meeting-2030-01-08",
                                                              outcome="back_to_review", actor=LEAD))
        s = await state(h)
        assert s.stage == "decision" and s.meeting_id is None
        s = await update(h, "decide", DecideInput(actor=LIAISON, outcome="granted", permit="25b",
                                                  valid_until=date(2028, 11, 30)))
        assert s.stage == "closed" and s.outcome == "granted" and s.status == "closed"
        final = await h.result()
        assert final.stage == "closed"
        actions = rec.actions(h.id)
        assert actions[0] == "create_case"
        assert actions.count("meeting_outcome") == 1
        seqs = [e.seq for e in rec.events[h.id]]
        assert seqs == list(range(1, len(seqs) + 1)), "events are projected in order, none lost or twice"


async def test_request_documents_goes_back_and_resubmits(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq)
        await to_review(h)
        due = (await ts_env.get_current_time()).date() + timedelta(days=30)
        s = await update(h, "request_documents", RequestDocumentsInput(actor=LIAISON, documents=["payslips"], due=due))
        assert s.stage == "document_collection"
        payslips = next(d for d in s.documents if d.type == "payslips")
        assert payslips.state == "missing" and payslips.requested
        dd = next(d for d in s.deadlines if d.kind == "document_due")
        assert dd.due == due and dd.state == "pending"
        assert not any(d.kind == "review_sla" and d.state == "pending" for d in s.deadlines)
        err = await refused(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
        assert err.type == "PreconditionFailed" and "payslips" in err.details[0]["missing_documents"]
        await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type="payslips", state="received"))
        s = await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
        assert s.stage == "authority_review"
        assert next(d for d in s.deadlines if d.kind == "document_due").state == "met"


async def test_refused_transitions_name_stage_and_allowed_actions(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq)
        err = await refused(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
        assert err.type == "ActionNotAllowed"
        assert err.details[0]["current_stage"] == "intake"
        assert err.details[0]["allowed_actions"] == ["complete_intake", "withdraw", "add_note", "revoke_consent"]
        # the wrong role is refused as forbidden, whatever the stage
        err = await refused(h, "complete_intake", CompleteIntakeInput(actor=LIAISON, pathway="25b"))
        assert err.type == "Forbidden"
        err = await refused(h, "decide", DecideInput(actor=COUNSELOR, outcome="granted", permit="25b",
                                                    valid_until=date(2030, 1, 1)))
        assert err.type == "Forbidden"
        err = await refused(h, "add_note", AddNoteInput(actor=OPS, text_id="n1", visibility="shared"))
        assert err.type == "Forbidden"
        err = await refused(h, "decide", DecideInput(actor=LIAISON, outcome="granted", permit="25b",
                                                    valid_until=date(2030, 1, 1)))
        assert err.type == "ActionNotAllowed"
        err = await refused(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="99x"))
        assert err.type == "InvalidInput"
        # nothing of the refused updates entered the history: only the creation was projected
        s = await state(h)
        assert s.stage == "intake" and s.seq == 1
        await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))
        await h.result()
        assert rec.actions(h.id) == ["create_case", "withdraw"]


async def test_submit_needs_consent_and_revoke_hides(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        h = await start_case(ts_env.client, tq, consent=False)
        await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25b"))
        for t in checklist("25b"):
            await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type=t, state="received"))
        err = await refused(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
        assert err.type == "PreconditionFailed" and "consent" in err.message
        h2 = await start_case(ts_env.client, tq)
        await to_review(h2)
        s = await update(h2, "revoke_consent", RevokeConsentInput(actor=COUNSELOR))
        assert s.consent_given is False
        err = await refused(h2, "revoke_consent", RevokeConsentInput(actor=COUNSELOR))
        assert err.type == "PreconditionFailed"
        for hh in (h, h2):
            await update(hh, "withdraw", WithdrawInput(actor=COUNSELOR))


async def test_meeting_outcomes_route_the_case(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        back = await start_case(ts_env.client, tq)
        docs = await start_case(ts_env.client, tq)
        for h in (back, docs):
            await to_review(h)
            await update(h, "refer_to_meeting", ReferToMeetingInput(actor=COUNSELOR, meeting_id="meeting-2030-02-05"))
        # an outcome for another meeting is ignored
        await back.signal("meeting_outcome", MeetingOutcomeInput(meeting_id="meeting-1999-01-01",
                                                                 outcome="decision_ready", actor=LEAD))
        assert (await state(back)).stage == "joint_meeting"
        await back.signal("meeting_outcome", MeetingOutcomeInput(meeting_id="meeting-2030-02-05",
                                                                 outcome="back_to_review", actor=LEAD))
        due = (await ts_env.get_current_time()).date() + timedelta(days=20)
        await docs.signal("meeting_outcome", MeetingOutcomeInput(
            meeting_id="meeting-2030-02-05", outcome="request_documents", actor=LEAD, documents=["rent_contract"],
            due=due))
        s_back, s_docs = await state(back), await state(docs)
        assert s_back.stage == "authority_review"
        assert s_docs.stage == "document_collection"
        assert next(d for d in s_docs.documents if d.type == "rent_contract").state == "missing"
        assert next(d for d in s_docs.deadlines if d.kind == "document_due").due == due
        for h in (back, docs):
            await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))


async def test_prepare_decision_refusal_and_interim(ts_env: WorkflowEnvironment) -> None:
    rec = Recorder()
    async with case_worker(ts_env.client, rec) as tq:
        today = (await ts_env.get_current_time()).date()
        h = await start_case(ts_env.client, tq, duldung_valid_until=today + timedelta(days=90))
        await to_review(h)
        s = await update(h, "record_interim", RecordInterimInput(actor=LIAISON, kind="duldung_extended",
                                                                 valid_until=today + timedelta(days=200)))
        active = [d for d in s.deadlines if d.kind == "duldung_expiry" and d.state == "pending"]
        assert len(active) == 1 and active[0].due == today + timedelta(days=200)
        s = await update(h, "prepare_decision", PrepareDecisionInput(actor=LIAISON))
        assert s.stage == "decision"
        err = await refused(h, "decide", DecideInput(actor=LEAD, outcome="refused"))
        assert err.type == "InvalidInput"
        notified = today
        s = await update(h, "decide", DecideInput(actor=LEAD, outcome="refused", notified_on=notified))
        assert s.stage == "closed" and s.outcome == "refused"
        appeal = next(d for d in s.deadlines if d.kind == "appeal_deadline")
        assert appeal.state == "pending" and appeal.due >= notified + timedelta(days=28)
        assert all(d.state == "cancelled" for d in s.deadlines if d.kind == "duldung_expiry")
        # nothing more may happen but notes
        err = await refused(h, "withdraw", WithdrawInput(actor=COUNSELOR))
        assert err.type == "ActionNotAllowed" and err.details[0]["allowed_actions"] == ["add_note", "revoke_consent"]
        await update(h, "add_note", AddNoteInput(actor=LIAISON, text_id="note-1", visibility="internal"))
