"""Joint meetings (Austauschtreffen): create, list, agenda, minutes (API.md "Joint meetings")."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import select
from temporalio.service import RPCError

from api import casework
from api.deps import CurrentUser, SessionDep, StateDep, TemporalDep
from api.meetings_service import ensure_meeting, meeting_for_referral
from api.problems import Problem, invalid, unavailable
from api.schemas import Strict
from rules.lifecycle import MINUTES_ROLES, Institution
from schemas.case import MeetingOutcomeInput
from store.models import AgendaItem, Case, Meeting, Note

router = APIRouter(prefix="/api/v1/meetings", tags=["meetings"])


class MeetingCreate(Strict):
    date: dt.date
    title: str | None = Field(default=None, max_length=200)


class MinutesItem(Strict):
    case_id: str = Field(max_length=64)
    outcome: Literal["back_to_review", "request_documents", "decision_ready"]
    note: str | None = Field(default=None, max_length=5000)
    documents: list[str] = Field(default_factory=list, max_length=30)
    due: dt.date | None = None


class Minutes(Strict):
    items: list[MinutesItem] = Field(min_length=1, max_length=500)


def _meeting_json(m: Meeting, agenda: list[dict[str, object]] | None = None) -> dict[str, object]:
    out: dict[str, object] = {"id": m.id, "date": m.date.isoformat(), "title": m.title, "state": m.state}
    if agenda is not None:
        out["agenda"] = agenda
    return out


async def agenda(session: SessionDep, user: CurrentUser, m: Meeting) -> list[dict[str, object]]:
    """The agenda, pseudonymous, longest-waiting first; the authority sees only cases it may see."""
    rows = (
        await session.execute(
            select(AgendaItem, Case).join(Case, Case.id == AgendaItem.case_id).where(AgendaItem.meeting_id == m.id)
        )
    ).all()
    items = []
    for item, case in sorted(rows, key=lambda r: r[1].stage_entered_at):
        if not casework.visible(user, case):
            continue
        reason = await session.get(Note, item.reason_id) if item.reason_id else None
        items.append({
            "case_id": case.id, "reference": case.reference, "stage": case.stage, "pathway": case.pathway,
            "reason": reason.text if reason is not None and casework.note_readable(user, reason) else None,
            "referred_by": item.referred_by, "referred_at": item.referred_at.isoformat(), "outcome": item.outcome,
            "days_in_stage": (datetime.now(UTC) - _aware(case.stage_entered_at)).days,
        })
    return items


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@router.post("", status_code=201, summary="Plan a meeting")
async def create_meeting(body: MeetingCreate, session: SessionDep, user: CurrentUser) -> dict[str, object]:
    if user.institution == Institution.OPERATIONS:
        raise Problem(403, "Betrieb plant keine Austauschtreffen.")
    if body.date < casework.today():
        raise invalid([{"field": "date", "message": "liegt in der Vergangenheit"}])
    m = await ensure_meeting(session, body.date, body.title)
    return _meeting_json(m, [])


@router.get("", summary="List meetings")
async def list_meetings(session: SessionDep, user: CurrentUser) -> list[dict[str, object]]:
    rows = (await session.scalars(select(Meeting).order_by(Meeting.date.desc()).limit(100))).all()
    return [_meeting_json(m) for m in rows]


@router.get("/next", summary="The meeting a case referred today would join")
async def next_meeting(session: SessionDep, user: CurrentUser, st: StateDep) -> dict[str, object]:
    mid = await meeting_for_referral(session, casework.today(), st.settings)
    m = await session.get(Meeting, mid)
    assert m is not None
    return _meeting_json(m, await agenda(session, user, m))


@router.get("/{meeting_id}", summary="A meeting with its agenda")
async def get_meeting(meeting_id: str, session: SessionDep, user: CurrentUser) -> dict[str, object]:
    m = await session.get(Meeting, meeting_id)
    if m is None:
        raise Problem(404, "Austauschtreffen nicht gefunden.")
    return _meeting_json(m, await agenda(session, user, m))


@router.post("/{meeting_id}/minutes", summary="Record the minutes: one outcome per case")
async def post_minutes(meeting_id: str, body: Minutes, session: SessionDep, user: CurrentUser,
                       client: TemporalDep) -> dict[str, object]:
    """Each outcome is signalled to its case once; cases on the agenda but not in the minutes stay open."""
    if user.role not in MINUTES_ROLES:
        raise Problem(403, "Diese Rolle darf kein Protokoll erfassen.")
    m = await session.get(Meeting, meeting_id)
    if m is None:
        raise Problem(404, "Austauschtreffen nicht gefunden.")
    items = {i.case_id: i for i in (await session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == m.id))).all()}
    errors = []
    for n, it in enumerate(body.items):
        if it.case_id not in items:
            errors.append({"field": f"items.{n}.case_id", "message": "steht nicht auf der Tagesordnung"})
        if it.outcome == "request_documents" and (not it.documents or it.due is None):
            errors.append({"field": f"items.{n}.documents", "message": "Unterlagen und Frist angeben"})
    if errors:
        raise invalid(errors)
    actor = casework.actor_of(user)
    applied = []
    for it in body.items:
        item = items[it.case_id]
        text_id = None
        if it.note:
            text_id = f"minutes-{meeting_id}-{it.case_id}"[:40]
            if await session.get(Note, text_id) is None:
                session.add(Note(id=text_id, case_id=it.case_id, kind="minutes", visibility="shared",
                                 institution=user.institution, author_id=user.id, text=it.note))
        if item.outcome is None:
            item.outcome = it.outcome
            item.outcome_note_id = text_id
        await session.commit()
        try:
            await client.get_workflow_handle(it.case_id).signal(
                "meeting_outcome",
                MeetingOutcomeInput(meeting_id=meeting_id, outcome=it.outcome, actor=actor, documents=it.documents,
                                    due=it.due, text_id=text_id),
            )
        except RPCError as exc:
            raise unavailable("Temporal") from exc
        applied.append(it.case_id)
    m.state = "held"
    m.held_at = m.held_at or datetime.now(UTC)
    await session.commit()
    return {"meeting_id": meeting_id, "applied": applied}
