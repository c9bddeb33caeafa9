"""API request and response bodies (the outside shapes of API.md)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

PathwayCode = Literal["25a", "25b", "104c", "60d", "60c", "16g", "19d", "25_5"]
DocState = Literal["missing", "received", "verified", "expired", "waived"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class School(Strict):
    attending: bool | None = None
    years_successful: int | None = Field(default=None, ge=0, le=20)
    qualification: str | None = Field(default=None, max_length=200)


class Employment(Strict):
    employed: bool | None = None
    hours_per_week: float | None = Field(default=None, ge=0, le=80)
    since: date | None = None


class CriminalRecord(Strict):
    convicted: bool | None = None
    day_fines: int | None = Field(default=None, ge=0, le=10000)


class PersonIn(Strict):
    reference: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
    given_name: str | None = Field(default=None, max_length=200)
    family_name: str | None = Field(default=None, max_length=200)
    birth_date: date | None = None
    nationality: str | None = Field(default=None, min_length=2, max_length=3)
    entry_date: date | None = None
    duldung_since: date | None = None
    duldung_valid_until: date | None = None
    duldung_type: Literal["regular", "light_60b", "procedural", "training_60c", "employment_60d"] | None = None
    minor_children: int | None = Field(default=None, ge=0, le=30)
    language_level: Literal["none", "A1", "A2", "B1", "B2", "C1", "C2"] | None = None
    school: School | None = None
    employment: Employment | None = None
    livelihood_secured: Literal["none", "partly", "largely", "fully"] | None = None
    identity_clarified: bool | None = None
    passport_status: Literal["valid", "expired", "applied", "impossible", "none"] | None = None
    civic_test_passed: bool | None = None
    criminal_record: CriminalRecord | None = None
    # Facts some pathways need beyond the example (None = not known → that pathway is `unknown`).
    in_training: bool | None = None
    training_qualified: bool | None = None
    german_qualification: bool | None = None
    qualified_work_years: float | None = Field(default=None, ge=0, le=60)
    deception: bool | None = None
    departure_impossible: bool | None = None


class Consent(Strict):
    given: bool
    date: dt.date | None = None
    version: str | None = Field(default=None, max_length=40)


class CaseCreate(Strict):
    person: PersonIn
    consent_to_share: Consent
    pathway: PathwayCode | None = None


class DeadlineRead(BaseModel):
    kind: str
    due: date
    due_at: datetime
    state: str
    remind_at: datetime | None = None


class DocumentRead(BaseModel):
    type: str
    state: str
    valid_until: date | None = None
    requested: bool = False


class CaseRead(BaseModel):
    id: str
    reference: str
    stage: str
    status: str
    pathway: str | None
    outcome: str | None
    deadlines: list[DeadlineRead]
    documents: list[DocumentRead]
    allowed_actions: list[str]
    authority_file_number: str | None
    meeting_id: str | None
    consent_given: bool
    submitted_at: datetime | None
    permit: str | None = None
    permit_valid_until: date | None = None
    eligible_from: date | None = None
    unit: str | None = None
    created_at: datetime
    stage_entered_at: datetime
    updated_at: datetime


class CasePage(BaseModel):
    items: list[CaseRead]
    next_cursor: str | None


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    role: str
    action: str
    from_stage: str | None
    to_stage: str | None
    details: dict[str, Any]


# ---- action bodies -----------------------------------------------------------------------------------


class CompleteIntakeBody(Strict):
    pathway: PathwayCode | None = None


class RecordDocumentBody(Strict):
    type: str = Field(min_length=1, max_length=40)
    state: DocState
    valid_until: date | None = None


class EmptyBody(Strict):
    pass


class AcknowledgeBody(Strict):
    file_number: str = Field(min_length=1, max_length=64)


class RequestDocumentsBody(Strict):
    documents: list[str] = Field(min_length=1, max_length=30)
    due: date | None = None
    due_at: AwareDatetime | None = None


class ReferToMeetingBody(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class DecideBody(Strict):
    outcome: Literal["granted", "refused"]
    permit: PathwayCode | None = None
    valid_until: date | None = None
    reason: str | None = Field(default=None, max_length=5000)
    notified_on: date | None = None
    with_remedies_notice: bool = True


class RecordInterimBody(Strict):
    kind: Literal["duldung_extended", "fiktionsbescheinigung"]
    valid_until: date


class ReasonBody(Strict):
    reason: str | None = Field(default=None, max_length=5000)


class WithdrawBody(Strict):
    reason: str = Field(min_length=1, max_length=5000)


class AddNoteBody(Strict):
    text: str = Field(min_length=1, max_length=10000)
    visibility: Literal["internal", "shared"]


ACTION_BODIES: dict[str, type[Strict]] = {
    "complete_intake": CompleteIntakeBody,
    "record_document": RecordDocumentBody,
    "submit_to_authority": EmptyBody,
    "acknowledge": AcknowledgeBody,
    "request_documents": RequestDocumentsBody,
    "refer_to_meeting": ReferToMeetingBody,
    "prepare_decision": EmptyBody,
    "decide": DecideBody,
    "record_interim": RecordInterimBody,
    "withdraw": WithdrawBody,
    "add_note": AddNoteBody,
    "revoke_consent": ReasonBody,
}


class EligibilityCheck(Strict):
    person: PersonIn
    as_of: date | None = None


class EligibilityResult(BaseModel):
    pathway: str
    status: Literal["met", "not_yet", "not_met", "unknown"]
    eligible_from: date | None
    missing: list[str]
    rules_as_of: date
    uncertain: list[str] = Field(default_factory=list)
    label: str | None = None
