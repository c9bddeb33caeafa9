"""Models shared by the case workflow, its activities and the API.

They cross the Temporal boundary, so they carry ids, stages, dates and document states only: never a
name, a birth date, a reference number or a free text (free texts live in SQL and travel as `text_id`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from rules.lifecycle import Stage


class CaseStatus(StrEnum):
    ACTIVE = "active"
    WAITING = "waiting"
    OVERDUE = "overdue"
    CLOSED = "closed"


class DeadlineKind(StrEnum):
    ELIGIBILITY = "eligibility_date"
    DOCUMENT_DUE = "document_due"
    REVIEW_SLA = "review_sla"
    DULDUNG_EXPIRY = "duldung_expiry"
    FIKTION_EXPIRY = "fiktion_expiry"
    APPEAL = "appeal_deadline"


class DeadlineState(StrEnum):
    PENDING = "pending"
    REMINDED = "reminded"
    MISSED = "missed"
    MET = "met"
    CANCELLED = "cancelled"


class Actor(BaseModel):
    """Who acts: a user id with role and institution (names stay in SQL)."""

    user_id: int
    role: str
    institution: str
    unit: str | None = None


SYSTEM = Actor(user_id=0, role="system", institution="system")


class Deadline(BaseModel):
    kind: DeadlineKind
    due: date  # the last day (shown to people)
    due_at: datetime  # the exact instant it ends (24:00 Europe/Berlin of `due` unless set exactly)
    remind_at: datetime | None = None
    state: DeadlineState = DeadlineState.PENDING
    ref: str | None = None  # e.g. the update id of the request that set it


class Document(BaseModel):
    type: str
    state: Literal["missing", "received", "verified", "expired", "waived"] = "missing"
    valid_until: date | None = None
    requested: bool = False  # asked for by the authority (request_documents)


class TimerConfig(BaseModel):
    """Lead times and SLAs in days; part of the workflow input so a case keeps the rules it began with."""

    eligibility_lead_days: int = 28
    document_reminder_days: int = 7
    review_sla_days: int = 28
    duldung_reminder_days: int = 21
    appeal_reminder_days: int = 7
    holiday_state: str = "SN"
    upsert_search_attributes: bool = True
    # Continue-as-new once the history has this many events (Temporal also suggests it itself).
    max_history_events: int = 8000


class CaseState(BaseModel):
    """Where a case stands: the workflow's state, the query result and the read model's source."""

    case_id: str
    unit: str | None = None
    stage: Stage = Stage.INTAKE
    status: CaseStatus = CaseStatus.ACTIVE
    pathway: str | None = None
    eligible_from: date | None = None
    outcome: Literal["granted", "refused", "withdrawn"] | None = None
    permit: str | None = None
    permit_valid_until: date | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    documents: list[Document] = Field(default_factory=list)
    authority_file_number: str | None = None
    meeting_id: str | None = None
    consent_given: bool = False
    submitted_at: datetime | None = None
    created_at: datetime
    stage_entered_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    seq: int = 0  # number of the last event; the read model is keyed by it
    processed_meetings: list[str] = Field(default_factory=list)  # minutes already applied (exactly once)


class CaseEvent(BaseModel):
    """One entry of the case's audit trail, written by the projection activity under (case_id, seq)."""

    seq: int
    at: datetime
    actor: Actor
    action: str
    from_stage: str | None = None
    to_stage: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None


class Notification(BaseModel):
    """A message to enqueue in the outbox; recipients by role/unit, content by kind (no personal data)."""

    kind: str
    recipient_role: str
    unit: str | None = None
    seq: int
    details: dict[str, Any] = Field(default_factory=dict)


# ---- workflow input and handler inputs -------------------------------------------------------------


class CaseWorkflowInput(BaseModel):
    case_id: str
    unit: str | None = None
    created_by: Actor
    consent_given: bool
    duldung_valid_until: date | None = None
    config: TimerConfig = Field(default_factory=TimerConfig)
    # Carried over by continue-as-new.
    state: CaseState | None = None
    pending_events: list[CaseEvent] = Field(default_factory=list)
    pending_notifications: list[Notification] = Field(default_factory=list)


class ActionInput(BaseModel):
    actor: Actor
    request_id: str | None = None


class CompleteIntakeInput(ActionInput):
    pathway: str
    eligible_from: date | None = None  # computed by the API from the person's data


class RecordDocumentInput(ActionInput):
    type: str
    state: Literal["missing", "received", "verified", "expired", "waived"]
    valid_until: date | None = None


class SubmitToAuthorityInput(ActionInput):
    pass


class AcknowledgeInput(ActionInput):
    file_number: str


class RequestDocumentsInput(ActionInput):
    documents: list[str]
    due: date | None = None
    due_at: datetime | None = None


class ReferToMeetingInput(ActionInput):
    meeting_id: str
    text_id: str | None = None  # the reason, stored in SQL


class PrepareDecisionInput(ActionInput):
    pass


class DecideInput(ActionInput):
    outcome: Literal["granted", "refused"]
    permit: str | None = None
    valid_until: date | None = None
    notified_on: date | None = None
    with_remedies_notice: bool = True
    text_id: str | None = None


class RecordInterimInput(ActionInput):
    kind: Literal["duldung_extended", "fiktionsbescheinigung"]
    valid_until: date


class WithdrawInput(ActionInput):
    text_id: str | None = None


class AddNoteInput(ActionInput):
    text_id: str
    visibility: Literal["internal", "shared"]


class RevokeConsentInput(ActionInput):
    text_id: str | None = None


class MeetingOutcomeInput(BaseModel):
    """Signal from the minutes of a joint meeting; applied once per meeting."""

    meeting_id: str
    outcome: Literal["back_to_review", "request_documents", "decision_ready"]
    actor: Actor
    documents: list[str] = Field(default_factory=list)
    due: date | None = None
    text_id: str | None = None


class MoveToMeetingInput(BaseModel):
    """Signal from a meeting workflow: the minutes left this case open, it moves to the next meeting."""

    from_meeting_id: str
    meeting_id: str
    actor: Actor = SYSTEM


# Activities are called by name, so workflows need not import the I/O layer (DESIGN.md).
PROJECT_CASE = "project_case"


class ProjectCaseInput(BaseModel):
    state: CaseState
    events: list[CaseEvent]
    notifications: list[Notification] = Field(default_factory=list)


ACTION_INPUTS: dict[str, type[ActionInput]] = {
    "complete_intake": CompleteIntakeInput,
    "record_document": RecordDocumentInput,
    "submit_to_authority": SubmitToAuthorityInput,
    "acknowledge": AcknowledgeInput,
    "request_documents": RequestDocumentsInput,
    "refer_to_meeting": ReferToMeetingInput,
    "prepare_decision": PrepareDecisionInput,
    "decide": DecideInput,
    "record_interim": RecordInterimInput,
    "withdraw": WithdrawInput,
    "add_note": AddNoteInput,
    "revoke_consent": RevokeConsentInput,
}
