"""CaseWorkflow: one Bleiberecht case from intake to a decision, with every deadline as a timer.

Actions are updates with validators (a refused action never enters history), meeting outcomes are
signals, the state is a query. Every change becomes a numbered `CaseEvent`; the run loop hands the
events, in order, to the projection activity, which writes the SQL read model and the audit log
idempotently under (case_id, seq). An update returns once its own events are stored, so a client that
reads right after an action sees it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from rules import checklists, deadlines
    from rules.lifecycle import Stage, Verdict, allowed_actions, check
    from schemas.case import (
        PROJECT_CASE,
        SYSTEM,
        AcknowledgeInput,
        ActionInput,
        AddNoteInput,
        CaseEvent,
        CaseState,
        CaseStatus,
        CaseWorkflowInput,
        CompleteIntakeInput,
        Deadline,
        DeadlineKind,
        DeadlineState,
        DecideInput,
        Document,
        MeetingOutcomeInput,
        MoveToMeetingInput,
        Notification,
        PrepareDecisionInput,
        ProjectCaseInput,
        RecordDocumentInput,
        RecordInterimInput,
        ReferToMeetingInput,
        RequestDocumentsInput,
        RevokeConsentInput,
        SubmitToAuthorityInput,
        WithdrawInput,
    )

# Error types the API maps to HTTP statuses.
FORBIDDEN = "Forbidden"  # 403
WRONG_STAGE = "ActionNotAllowed"  # 409 with current_stage / allowed_actions
PRECONDITION = "PreconditionFailed"  # 409 with a detail
INVALID = "InvalidInput"  # 422

# Versioned changes (workflow.patched ids); deprecate_patch once no open case predates them.
PATCH_SLA_ON_AUTHORITY_NOTE = "sla-restarts-on-authority-note"

SA_STAGE = SearchAttributeKey.for_keyword("BleibeStage")
SA_STAGE_ENTERED = SearchAttributeKey.for_datetime("BleibeStageEnteredAt")
SA_NEXT_DEADLINE = SearchAttributeKey.for_datetime("BleibeNextDeadline")
SA_PATHWAY = SearchAttributeKey.for_keyword("BleibePathway")
SA_STATUS = SearchAttributeKey.for_keyword("BleibeStatus")
SA_UNIT = SearchAttributeKey.for_keyword("BleibeUnit")

# The read model must catch up whatever happens to the database: retry for as long as it takes,
# slowly; only a malformed input is not worth retrying.
PROJECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["ValidationError"],
)

# The sandbox hands workflow code a restricted proxy of zoneinfo.ZoneInfo, which datetime.astimezone refuses
# ("tzinfo argument must be … a tzinfo subclass"); the passed-through rules module yields the real zone.
BERLIN = deadlines.end_of_day(date(2026, 1, 1)).tzinfo
ACTIVE_DEADLINE_STATES = (DeadlineState.PENDING, DeadlineState.REMINDED)


def _appeal_end(notified_on: date, state: str, with_notice: bool) -> date:
    """The appeal deadline (§§70, 74, 58 VwGO with §§187–193 BGB and the state's holidays).

    `holidays` reads its calendar and translation files on first use. That data ships with the pinned
    package and never changes during a run, so the read is deterministic; it is the only call the
    sandbox is told to let through, and nothing else happens inside the block.
    """
    with workflow.unsafe.sandbox_unrestricted():
        return deadlines.appeal_deadline(notified_on, state, with_notice).end


def _berlin_day_start(d: date) -> datetime:
    """00:00 Europe/Berlin of day `d` (= 24:00 of the day before)."""
    return deadlines.end_of_day(d - timedelta(days=1))


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseWorkflowInput) -> None:
        now = workflow.now()
        self.config = inp.config
        self.state = inp.state or CaseState(
            case_id=inp.case_id,
            unit=inp.unit,
            consent_given=inp.consent_given,
            created_at=now,
            stage_entered_at=now,
            updated_at=now,
        )
        self.pending_events: list[CaseEvent] = list(inp.pending_events)
        self.pending_notifications: list[Notification] = list(inp.pending_notifications)
        self.projected_seq = self.state.seq - len(self.pending_events)
        self._fresh = inp.state is None
        self._duldung_valid_until = inp.duldung_valid_until
        self._created_by = inp.created_by
        # Here, not in run(): an update delivered with the start (an action right after create) runs its
        # handler before run() begins, and create_case must still be event 1.
        if self._fresh:
            if self._duldung_valid_until:
                self._set_expiry(DeadlineKind.DULDUNG_EXPIRY, self._duldung_valid_until)
            self._record(self._created_by, "create_case", None, Stage.INTAKE, {"consent": self.state.consent_given})

    # ---- run loop -----------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CaseWorkflowInput) -> CaseState:
        while True:
            await self._flush()
            if self._finished():
                break
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self.pending_events:
                    workflow.continue_as_new(
                        CaseWorkflowInput(
                            case_id=self.state.case_id,
                            unit=self.state.unit,
                            created_by=self._created_by,
                            consent_given=self.state.consent_given,
                            config=self.config,
                            state=self.state,
                        )
                    )
                continue
            wake = self._next_wake()
            timeout = max(wake - workflow.now(), timedelta(seconds=1)) if wake else None
            try:
                await workflow.wait_condition(lambda: bool(self.pending_events), timeout=timeout)
            except TimeoutError:
                pass
            self._fire_due_timers()
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self.pending_events)
        return self.state

    def _finished(self) -> bool:
        if self.state.stage != Stage.CLOSED or self.pending_events:
            return False
        # After a refusal the case stays until the appeal deadline has passed.
        return not any(
            d.kind == DeadlineKind.APPEAL and d.state in ACTIVE_DEADLINE_STATES for d in self.state.deadlines
        )

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > self.config.max_history_events

    async def _flush(self) -> None:
        """Project pending events in order; each call is idempotent, so a retry writes nothing twice."""
        while self.pending_events:
            events = list(self.pending_events)
            notes = list(self.pending_notifications)
            snapshot = self.state.model_copy(deep=True)
            await workflow.execute_activity(
                PROJECT_CASE,
                ProjectCaseInput(state=snapshot, events=events, notifications=notes),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=PROJECTION_RETRY,
                result_type=int,
            )
            del self.pending_events[: len(events)]
            del self.pending_notifications[: len(notes)]
            self.projected_seq = events[-1].seq
            self._upsert_search_attributes()

    # ---- timers -------------------------------------------------------------------------------------

    def _next_wake(self) -> datetime | None:
        now = workflow.now()
        times: list[datetime] = []
        for d in self.state.deadlines:
            if d.state == DeadlineState.PENDING and d.remind_at and d.remind_at > now:
                times.append(d.remind_at)
            elif d.state in ACTIVE_DEADLINE_STATES:
                times.append(d.due_at)
        return min(times) if times else None

    def _fire_due_timers(self) -> None:
        now = workflow.now()
        for d in list(self.state.deadlines):
            if d.state not in ACTIVE_DEADLINE_STATES:
                continue
            if now >= d.due_at:
                self._deadline_reached(d)
            elif d.state == DeadlineState.PENDING and d.remind_at and now >= d.remind_at:
                d.state = DeadlineState.REMINDED
                recipient = "authority_liaison" if d.kind == DeadlineKind.REVIEW_SLA else "counselor"
                self._record(SYSTEM, "deadline_reminder", None, None, {"kind": d.kind, "due": d.due.isoformat()},
                             notify=recipient)

    def _deadline_reached(self, d: Deadline) -> None:
        details: dict[str, Any] = {"kind": d.kind, "due": d.due.isoformat()}
        if d.kind == DeadlineKind.ELIGIBILITY:
            d.state = DeadlineState.MET
            self._record(SYSTEM, "eligibility_reached", None, None, details, notify="counselor")
            if self.state.stage == Stage.INTAKE:
                self._enter(SYSTEM, "eligibility_reached", Stage.DOCUMENT_COLLECTION, {}, record=False)
        elif d.kind == DeadlineKind.REVIEW_SLA:
            d.state = DeadlineState.MISSED
            self._record(SYSTEM, "review_escalated", None, None, details, notify="authority_lead")
        elif d.kind == DeadlineKind.APPEAL:
            d.state = DeadlineState.MISSED  # passed: the decision is final unless an appeal was filed
            self._record(SYSTEM, "appeal_deadline_passed", None, None, details)
        else:
            d.state = DeadlineState.MISSED
            self._record(SYSTEM, "deadline_missed", None, None, details, notify="counselor")
        self._update_status()

    def _set_deadline(self, kind: DeadlineKind, due: date, due_at: datetime, remind_days: int | None,
                      ref: str | None = None) -> Deadline:
        for old in self.state.deadlines:
            if old.kind == kind and old.state in ACTIVE_DEADLINE_STATES:
                old.state = DeadlineState.CANCELLED
        remind_at = due_at - timedelta(days=remind_days) if remind_days else None
        d = Deadline(kind=kind, due=due, due_at=due_at, remind_at=remind_at, ref=ref)
        self.state.deadlines.append(d)
        return d

    def _set_expiry(self, kind: DeadlineKind, valid_until: date) -> None:
        self._set_deadline(kind, valid_until, deadlines.end_of_day(valid_until), self.config.duldung_reminder_days)

    def _close_deadlines(self, kind: DeadlineKind, state: DeadlineState) -> None:
        for d in self.state.deadlines:
            if d.kind == kind and d.state in ACTIVE_DEADLINE_STATES:
                d.state = state

    def _start_review_sla(self) -> None:
        due_at = workflow.now() + timedelta(days=self.config.review_sla_days)
        self._set_deadline(DeadlineKind.REVIEW_SLA, due_at.date(), due_at, None)

    # ---- bookkeeping --------------------------------------------------------------------------------

    def _record(self, actor: Any, action: str, from_stage: str | None, to_stage: str | None,
                details: dict[str, Any], *, request_id: str | None = None, notify: str | None = None) -> None:
        now = workflow.now()
        self.state.seq += 1
        self.state.updated_at = now
        self.pending_events.append(
            CaseEvent(seq=self.state.seq, at=now, actor=actor, action=action, from_stage=from_stage,
                      to_stage=to_stage, details=details, request_id=request_id)
        )
        if notify:
            self.pending_notifications.append(
                Notification(kind=action, recipient_role=notify, unit=self.state.unit, seq=self.state.seq,
                             details=details)
            )

    def _enter(self, actor: Any, action: str, stage: Stage, details: dict[str, Any], *,
               request_id: str | None = None, record: bool = True) -> None:
        old = self.state.stage
        if old == Stage.AUTHORITY_REVIEW and stage != Stage.AUTHORITY_REVIEW:
            self._close_deadlines(DeadlineKind.REVIEW_SLA, DeadlineState.MET)
        self.state.stage = stage
        self.state.stage_entered_at = workflow.now()
        if stage == Stage.AUTHORITY_REVIEW:
            self._start_review_sla()
        if stage != Stage.JOINT_MEETING:
            self.state.meeting_id = None
        if stage == Stage.CLOSED:
            self.state.closed_at = workflow.now()
            for d in self.state.deadlines:
                if d.state in ACTIVE_DEADLINE_STATES and d.kind != DeadlineKind.APPEAL:
                    d.state = DeadlineState.CANCELLED
        self._update_status()
        self._record(actor, action if record else "stage_changed", old, stage, details, request_id=request_id)

    def _update_status(self) -> None:
        s = self.state
        if s.stage == Stage.CLOSED:
            s.status = CaseStatus.CLOSED
        elif any(d.kind == DeadlineKind.DOCUMENT_DUE and d.state == DeadlineState.MISSED for d in s.deadlines) \
                and s.stage == Stage.DOCUMENT_COLLECTION:
            s.status = CaseStatus.OVERDUE
        elif s.stage == Stage.INTAKE and any(
            d.kind == DeadlineKind.ELIGIBILITY and d.state in ACTIVE_DEADLINE_STATES for d in s.deadlines
        ):
            s.status = CaseStatus.WAITING
        else:
            s.status = CaseStatus.ACTIVE

    def _upsert_search_attributes(self) -> None:
        if not self.config.upsert_search_attributes:
            return
        s = self.state
        nxt = self._next_wake()
        pairs: list[SearchAttributePair[Any]] = [
            SA_STAGE.value_set(s.stage.value),
            SA_STAGE_ENTERED.value_set(s.stage_entered_at),
            SA_STATUS.value_set(s.status.value),
        ]
        updates = [*pairs]
        updates.append(SA_NEXT_DEADLINE.value_set(nxt) if nxt else SA_NEXT_DEADLINE.value_unset())
        updates.append(SA_PATHWAY.value_set(s.pathway) if s.pathway else SA_PATHWAY.value_unset())
        updates.append(SA_UNIT.value_set(s.unit) if s.unit else SA_UNIT.value_unset())
        current = workflow.info().typed_search_attributes
        if all(_sa_equal(current, u) for u in updates):
            return
        workflow.upsert_search_attributes(updates)

    async def _stored(self) -> CaseState:
        """Wait until every event so far is in the read model; return the state as of the call."""
        snapshot = self.state.model_copy(deep=True)
        seq = self.state.seq
        await workflow.wait_condition(lambda: self.projected_seq >= seq)
        return snapshot

    # ---- validation ---------------------------------------------------------------------------------

    def _validate(self, action: str, inp: ActionInput) -> None:
        verdict = check(inp.actor.role, inp.actor.institution, action, self.state.stage)
        if verdict is Verdict.FORBIDDEN:
            raise ApplicationError(f"role {inp.actor.role} may not {action}", type=FORBIDDEN, non_retryable=True)
        if verdict is not Verdict.ALLOWED:
            raise ApplicationError(
                f"{action} is not allowed in stage {self.state.stage}",
                {"current_stage": self.state.stage.value,
                 "allowed_actions": allowed_actions(inp.actor.role, inp.actor.institution, self.state.stage)},
                type=WRONG_STAGE,
                non_retryable=True,
            )

    @staticmethod
    def _invalid(message: str, field: str | None = None) -> ApplicationError:
        return ApplicationError(message, {"field": field}, type=INVALID, non_retryable=True)

    @staticmethod
    def _precondition(message: str, **details: Any) -> ApplicationError:
        return ApplicationError(message, details, type=PRECONDITION, non_retryable=True)

    # ---- queries ------------------------------------------------------------------------------------

    @workflow.query
    def state_query(self) -> CaseState:
        return self.state

    # ---- actions (updates) --------------------------------------------------------------------------

    @workflow.update
    async def complete_intake(self, inp: CompleteIntakeInput) -> CaseState:
        self.state.pathway = inp.pathway
        self.state.eligible_from = inp.eligible_from
        self.state.documents = [Document(type=t) for t in checklists.checklist(inp.pathway)]
        eligible = inp.eligible_from.isoformat() if inp.eligible_from else None
        details = {"pathway": inp.pathway, "eligible_from": eligible}
        wake_day = inp.eligible_from - timedelta(days=self.config.eligibility_lead_days) if inp.eligible_from else None
        if wake_day and _berlin_day_start(wake_day) > workflow.now():
            assert inp.eligible_from is not None
            self._set_deadline(DeadlineKind.ELIGIBILITY, inp.eligible_from, _berlin_day_start(wake_day), None)
            self._update_status()
            self._record(inp.actor, "complete_intake", Stage.INTAKE, Stage.INTAKE, {**details, "waiting": True},
                         request_id=inp.request_id)
        else:
            self._enter(inp.actor, "complete_intake", Stage.DOCUMENT_COLLECTION, details, request_id=inp.request_id)
        return await self._stored()

    @complete_intake.validator
    def _v_complete_intake(self, inp: CompleteIntakeInput) -> None:
        self._validate("complete_intake", inp)
        if self.state.status == CaseStatus.WAITING:
            raise self._precondition("intake is complete; the case waits for its eligibility date")
        try:
            checklists.checklist(inp.pathway)
        except ValueError as exc:
            raise self._invalid(f"unknown pathway {inp.pathway!r}", "pathway") from exc

    @workflow.update
    async def record_document(self, inp: RecordDocumentInput) -> CaseState:
        doc = next((d for d in self.state.documents if d.type == inp.type), None)
        if doc is None:
            doc = Document(type=inp.type)
            self.state.documents.append(doc)
        doc.state = inp.state
        doc.valid_until = inp.valid_until
        self._record(inp.actor, "record_document", None, None,
                     {"type": inp.type, "state": inp.state,
                      "valid_until": inp.valid_until.isoformat() if inp.valid_until else None},
                     request_id=inp.request_id)
        return await self._stored()

    @record_document.validator
    def _v_record_document(self, inp: RecordDocumentInput) -> None:
        self._validate("record_document", inp)
        if inp.type not in checklists.DOCUMENT_TYPES:
            raise self._invalid(f"unknown document type {inp.type!r}", "type")

    @workflow.update
    async def submit_to_authority(self, inp: SubmitToAuthorityInput) -> CaseState:
        first = self.state.submitted_at is None
        if first:
            self.state.submitted_at = workflow.now()
        self._close_deadlines(DeadlineKind.DOCUMENT_DUE, DeadlineState.MET)
        for d in self.state.documents:
            d.requested = False
        self._enter(inp.actor, "submit_to_authority", Stage.AUTHORITY_REVIEW, {"first_submission": first},
                    request_id=inp.request_id)
        return await self._stored()

    @submit_to_authority.validator
    def _v_submit(self, inp: SubmitToAuthorityInput) -> None:
        self._validate("submit_to_authority", inp)
        if not self.state.consent_given:
            raise self._precondition("no recorded consent to share the case with the authority")
        today = workflow.now().date()
        missing = checklists.open_items([(d.type, d.state, d.valid_until) for d in self.state.documents], today)
        if missing:
            raise self._precondition("the document checklist is not complete", missing_documents=missing)

    @workflow.update
    async def acknowledge(self, inp: AcknowledgeInput) -> CaseState:
        self.state.authority_file_number = inp.file_number
        self._start_review_sla()
        self._record(inp.actor, "acknowledge", None, None, {}, request_id=inp.request_id)
        return await self._stored()

    @acknowledge.validator
    def _v_acknowledge(self, inp: AcknowledgeInput) -> None:
        self._validate("acknowledge", inp)
        if not inp.file_number.strip():
            raise self._invalid("file number must not be empty", "file_number")

    @workflow.update
    async def request_documents(self, inp: RequestDocumentsInput) -> CaseState:
        due_at, due = self._due(inp.due, inp.due_at)
        for t in inp.documents:
            doc = next((d for d in self.state.documents if d.type == t), None)
            if doc is None:
                doc = Document(type=t)
                self.state.documents.append(doc)
            doc.state = "missing"
            doc.requested = True
        self._set_deadline(DeadlineKind.DOCUMENT_DUE, due, due_at, self.config.document_reminder_days,
                           ref=inp.request_id)
        self._enter(inp.actor, "request_documents", Stage.DOCUMENT_COLLECTION,
                    {"documents": inp.documents, "due": due.isoformat()}, request_id=inp.request_id)
        return await self._stored()

    @request_documents.validator
    def _v_request_documents(self, inp: RequestDocumentsInput) -> None:
        self._validate("request_documents", inp)
        self._validate_request(inp.documents, inp.due, inp.due_at)

    def _validate_request(self, documents: list[str], due: date | None, due_at: datetime | None) -> None:
        if not documents:
            raise self._invalid("at least one document is needed", "documents")
        unknown = [t for t in documents if t not in checklists.DOCUMENT_TYPES]
        if unknown:
            raise self._invalid(f"unknown document types: {', '.join(unknown)}", "documents")
        if (due is None) == (due_at is None):
            raise self._invalid("give either due (a date) or due_at (a time)", "due")
        due_at_, _ = self._due(due, due_at)
        if due_at_ <= workflow.now():
            raise self._invalid("the due date is in the past", "due")

    def _due(self, due: date | None, due_at: datetime | None) -> tuple[datetime, date]:
        if due_at is not None:
            return due_at, due_at.astimezone(BERLIN).date()
        assert due is not None
        return deadlines.end_of_day(due), due

    @workflow.update
    async def refer_to_meeting(self, inp: ReferToMeetingInput) -> CaseState:
        self._enter(inp.actor, "refer_to_meeting", Stage.JOINT_MEETING,
                    {"meeting_id": inp.meeting_id, "text_id": inp.text_id}, request_id=inp.request_id)
        self.state.meeting_id = inp.meeting_id
        return await self._stored()

    @refer_to_meeting.validator
    def _v_refer(self, inp: ReferToMeetingInput) -> None:
        self._validate("refer_to_meeting", inp)

    @workflow.update
    async def prepare_decision(self, inp: PrepareDecisionInput) -> CaseState:
        if self.state.stage == Stage.DECISION:
            self._record(inp.actor, "prepare_decision", None, None, {}, request_id=inp.request_id)
        else:
            self._enter(inp.actor, "prepare_decision", Stage.DECISION, {}, request_id=inp.request_id)
        return await self._stored()

    @prepare_decision.validator
    def _v_prepare(self, inp: PrepareDecisionInput) -> None:
        self._validate("prepare_decision", inp)

    @workflow.update
    async def decide(self, inp: DecideInput) -> CaseState:
        self.state.outcome = inp.outcome
        details: dict[str, Any] = {"outcome": inp.outcome}
        if inp.outcome == "granted":
            self.state.permit = inp.permit
            self.state.permit_valid_until = inp.valid_until
            details |= {"permit": inp.permit, "valid_until": inp.valid_until.isoformat() if inp.valid_until else None}
        else:
            assert inp.notified_on is not None
            appeal_until = _appeal_end(inp.notified_on, self.config.holiday_state, inp.with_remedies_notice)
            details |= {"notified_on": inp.notified_on.isoformat(), "appeal_until": appeal_until.isoformat(),
                        "text_id": inp.text_id}
        self._enter(inp.actor, "decide", Stage.CLOSED, details, request_id=inp.request_id)
        if inp.outcome == "refused":
            assert inp.notified_on is not None
            end = _appeal_end(inp.notified_on, self.config.holiday_state, inp.with_remedies_notice)
            self._set_deadline(DeadlineKind.APPEAL, end, deadlines.end_of_day(end), self.config.appeal_reminder_days)
        return await self._stored()

    @decide.validator
    def _v_decide(self, inp: DecideInput) -> None:
        self._validate("decide", inp)
        if inp.outcome == "granted" and (not inp.permit or inp.valid_until is None):
            raise self._invalid("a grant needs permit and valid_until", "permit")
        if inp.outcome == "refused":
            if inp.notified_on is None:
                raise self._invalid("a refusal needs notified_on", "notified_on")
            if inp.notified_on > workflow.now().date() + timedelta(days=1):
                raise self._invalid("notified_on lies in the future", "notified_on")

    @workflow.update
    async def record_interim(self, inp: RecordInterimInput) -> CaseState:
        kind = DeadlineKind.DULDUNG_EXPIRY if inp.kind == "duldung_extended" else DeadlineKind.FIKTION_EXPIRY
        self._set_expiry(kind, inp.valid_until)
        self._record(inp.actor, "record_interim", None, None,
                     {"kind": inp.kind, "valid_until": inp.valid_until.isoformat()}, request_id=inp.request_id)
        return await self._stored()

    @record_interim.validator
    def _v_interim(self, inp: RecordInterimInput) -> None:
        self._validate("record_interim", inp)
        if inp.valid_until < workflow.now().date():
            raise self._invalid("valid_until lies in the past", "valid_until")

    @workflow.update
    async def withdraw(self, inp: WithdrawInput) -> CaseState:
        self.state.outcome = "withdrawn"
        self._enter(inp.actor, "withdraw", Stage.CLOSED, {"text_id": inp.text_id}, request_id=inp.request_id)
        return await self._stored()

    @withdraw.validator
    def _v_withdraw(self, inp: WithdrawInput) -> None:
        self._validate("withdraw", inp)

    @workflow.update
    async def add_note(self, inp: AddNoteInput) -> CaseState:
        # A note by the authority during review is an authority action: it restarts the review SLA.
        # Cases started before this change keep their old clock when replayed (workflow.patched).
        if (inp.actor.institution == "authority" and self.state.stage == Stage.AUTHORITY_REVIEW
                and workflow.patched(PATCH_SLA_ON_AUTHORITY_NOTE)):
            self._start_review_sla()
        self._record(inp.actor, "add_note", None, None,
                     {"text_id": inp.text_id, "visibility": inp.visibility}, request_id=inp.request_id)
        return await self._stored()

    @add_note.validator
    def _v_add_note(self, inp: AddNoteInput) -> None:
        self._validate("add_note", inp)

    @workflow.update
    async def revoke_consent(self, inp: RevokeConsentInput) -> CaseState:
        self.state.consent_given = False
        self._record(inp.actor, "revoke_consent", None, None, {"text_id": inp.text_id}, request_id=inp.request_id)
        return await self._stored()

    @revoke_consent.validator
    def _v_revoke(self, inp: RevokeConsentInput) -> None:
        self._validate("revoke_consent", inp)
        if not self.state.consent_given:
            raise self._precondition("consent is not recorded")

    # ---- signals ------------------------------------------------------------------------------------

    @workflow.signal
    def meeting_outcome(self, inp: MeetingOutcomeInput) -> None:
        """Apply one meeting's outcome for this case, once (a repeated signal is ignored)."""
        if inp.meeting_id in self.state.processed_meetings:
            return
        if self.state.stage != Stage.JOINT_MEETING or self.state.meeting_id != inp.meeting_id:
            workflow.logger.warning("meeting outcome for a case not on that agenda", extra={"case": self.state.case_id})
            return
        self.state.processed_meetings.append(inp.meeting_id)
        details: dict[str, Any] = {"meeting_id": inp.meeting_id, "outcome": inp.outcome, "text_id": inp.text_id}
        if inp.outcome == "back_to_review":
            self._enter(inp.actor, "meeting_outcome", Stage.AUTHORITY_REVIEW, details)
        elif inp.outcome == "decision_ready":
            self._enter(inp.actor, "meeting_outcome", Stage.DECISION, details)
        else:
            documents = [t for t in inp.documents if t in checklists.DOCUMENT_TYPES]
            for t in documents:
                doc = next((d for d in self.state.documents if d.type == t), None)
                if doc is None:
                    doc = Document(type=t)
                    self.state.documents.append(doc)
                doc.state = "missing"
                doc.requested = True
            if inp.due is not None:
                self._set_deadline(DeadlineKind.DOCUMENT_DUE, inp.due, deadlines.end_of_day(inp.due),
                                   self.config.document_reminder_days, ref=inp.meeting_id)
            details |= {"documents": documents, "due": inp.due.isoformat() if inp.due else None}
            self._enter(inp.actor, "meeting_outcome", Stage.DOCUMENT_COLLECTION, details)

    @workflow.signal
    def move_to_meeting(self, inp: MoveToMeetingInput) -> None:
        """Carry the case over to the next meeting when the minutes left it open (a repeat is a no-op)."""
        if self.state.stage != Stage.JOINT_MEETING or self.state.meeting_id != inp.from_meeting_id:
            return
        self.state.meeting_id = inp.meeting_id
        self._record(inp.actor, "move_to_meeting", None, None,
                     {"from_meeting_id": inp.from_meeting_id, "meeting_id": inp.meeting_id})


def _sa_equal(current: TypedSearchAttributes, update: Any) -> bool:
    value = current.get(update.key)
    return bool(value == update.value)

