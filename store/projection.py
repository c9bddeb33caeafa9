"""Copying a case workflow's state onto its read-model row: used by the projection activity and ops repair."""

from __future__ import annotations

from datetime import datetime

from schemas.case import CaseState, DeadlineState
from store.models import Case


def next_deadline(state: CaseState) -> datetime | None:
    active = [d.due_at for d in state.deadlines if d.state in (DeadlineState.PENDING, DeadlineState.REMINDED)]
    return min(active) if active else None


def apply_state(row: Case, state: CaseState) -> None:
    """Copy a workflow state onto its read-model row (also used by ops repair)."""
    row.stage = state.stage.value
    row.status = state.status.value
    row.pathway = state.pathway
    row.outcome = state.outcome
    if row.consent_given and not state.consent_given and row.consent_revoked_at is None:
        row.consent_revoked_at = state.updated_at
    row.consent_given = state.consent_given
    row.submitted_at = state.submitted_at
    row.authority_file_number = state.authority_file_number
    row.meeting_id = state.meeting_id
    row.deadlines = [d.model_dump(mode="json") for d in state.deadlines if d.state != DeadlineState.CANCELLED]
    row.documents = [d.model_dump(mode="json") for d in state.documents]
    row.next_deadline = next_deadline(state)
    row.deadline_missed = any(d.state == DeadlineState.MISSED for d in state.deadlines)
    row.stage_entered_at = state.stage_entered_at
    row.updated_at = state.updated_at
    row.closed_at = state.closed_at
    row.last_seq = state.seq
    row.state = state.model_dump(mode="json")
