"""Joint meetings (Austauschtreffen): create, list, agenda (JSON, HTML, PDF), minutes (API.md "Joint meetings")."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import Field
from sqlalchemy import select
from temporalio.service import RPCError

from api import casework
from api.deps import CurrentUser, SessionDep, StateDep, TemporalDep
from api.meetings_service import (
    agenda_items,
    ensure_meeting,
    ensure_meeting_workflow,
    meeting_for_referral,
    render_agenda_html,
    render_agenda_pdf,
    signal_minutes_recorded,
)
from api.problems import Problem, invalid, unavailable
from api.schemas import Strict
from rules.lifecycle import MINUTES_ROLES, Institution
from schemas.case import MeetingOutcomeInput
from store.models import AgendaItem, AuditEvent, Meeting, Note, User

router = APIRouter(prefix="/api/v1/meetings", tags=["meetings"])

CARRIED_OVER = "carried_over"


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


def _meeting_json(m: Meeting, agenda: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": m.id, "date": m.date.isoformat(), "title": m.title, "state": m.state}
    if agenda is not None:
        out["agenda"] = agenda
    return out


async def _meeting(session: SessionDep, meeting_id: str) -> Meeting:
    m = await session.get(Meeting, meeting_id) if meeting_id.startswith("meeting-") else None
    if m is None:
        raise Problem(404, "Austauschtreffen nicht gefunden.")
    return m


def _audit(request: Request, user: User, action: str, details: dict[str, Any]) -> AuditEvent:
    return AuditEvent(at=datetime.now(UTC), case_id=None, seq=None, actor_id=user.id, role=user.role,
                      institution=user.institution, action=action, details=details,
                      request_id=getattr(request.state, "request_id", None))


@router.post("", status_code=201, summary="Plan a meeting")
async def create_meeting(body: MeetingCreate, request: Request, session: SessionDep, user: CurrentUser,
                         st: StateDep, client: TemporalDep) -> dict[str, Any]:
    """The meeting row and its workflow (both idempotent: the same date gives the same meeting)."""
    if user.institution == Institution.OPERATIONS:
        raise Problem(403, "Betrieb plant keine Austauschtreffen.")
    if body.date < casework.today():
        raise invalid([{"field": "date", "message": "liegt in der Vergangenheit"}])
    m = await ensure_meeting(session, body.date, body.title)
    await ensure_meeting_workflow(client, st.settings, m.id)
    session.add(_audit(request, user, "create_meeting", {"meeting_id": m.id}))
    await session.commit()
    return _meeting_json(m, await agenda_items(session, user, m))


@router.get("", summary="List meetings")
async def list_meetings(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Meeting).order_by(Meeting.date.desc()).limit(100))).all()
    return [_meeting_json(m) for m in rows]


@router.get("/next", summary="The meeting a case referred today would join")
async def next_meeting(session: SessionDep, user: CurrentUser, st: StateDep, client: TemporalDep) -> dict[str, Any]:
    mid = await meeting_for_referral(session, casework.today(), st.settings)
    await ensure_meeting_workflow(client, st.settings, mid)
    m = await _meeting(session, mid)
    return _meeting_json(m, await agenda_items(session, user, m))


@router.get("/{meeting_id}", summary="A meeting with its agenda")
async def get_meeting(meeting_id: str, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    m = await _meeting(session, meeting_id)
    return _meeting_json(m, await agenda_items(session, user, m))


@router.get("/{meeting_id}/agenda.html", response_class=HTMLResponse, summary="The printable agenda page")
async def agenda_html(meeting_id: str, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    m = await _meeting(session, meeting_id)
    return HTMLResponse(render_agenda_html(m, await agenda_items(session, user, m)))


@router.get("/{meeting_id}/agenda.pdf", summary="The agenda as PDF (pseudonymous)",
            responses={200: {"content": {"application/pdf": {}}}})
async def agenda_pdf(meeting_id: str, session: SessionDep, user: CurrentUser) -> Response:
    m = await _meeting(session, meeting_id)
    pdf = render_agenda_pdf(m, await agenda_items(session, user, m))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="tagesordnung-{m.date.isoformat()}.pdf"'})


@router.post("/{meeting_id}/minutes", summary="Record the minutes: one outcome per case")
async def post_minutes(meeting_id: str, body: Minutes, request: Request, session: SessionDep, user: CurrentUser,
                       st: StateDep, client: TemporalDep) -> dict[str, Any]:
    """Each outcome is stored and signalled once; agenda cases missing from the minutes move to the next meeting.

    A retried request signals again, but the case workflows and the meeting workflow dedupe by meeting
    id, and an item keeps its first recorded outcome.
    """
    if user.role not in MINUTES_ROLES:
        raise Problem(403, "Diese Rolle darf kein Protokoll erfassen.")
    m = await _meeting(session, meeting_id)
    agenda = (await session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == m.id))).all()
    items = {i.case_id: i for i in agenda}
    errors = []
    for n, it in enumerate(body.items):
        if it.case_id not in items:
            errors.append({"field": f"items.{n}.case_id", "message": "steht nicht auf der Tagesordnung"})
        elif items[it.case_id].outcome == CARRIED_OVER:
            errors.append({"field": f"items.{n}.case_id", "message": "wurde auf das nächste Treffen vertagt"})
        if it.outcome == "request_documents" and (not it.documents or it.due is None):
            errors.append({"field": f"items.{n}.documents", "message": "Unterlagen und Frist angeben"})
    if errors:
        raise invalid(errors)
    actor = casework.actor_of(user)
    applied, new = [], []
    for it in body.items:
        item = items[it.case_id]
        text_id = None
        if it.note:
            text_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bleibe-minutes:{meeting_id}:{it.case_id}"))
            if await session.get(Note, text_id) is None:
                session.add(Note(id=text_id, case_id=it.case_id, kind="minutes", visibility="shared",
                                 institution=user.institution, author_id=user.id, text=it.note))
        if item.outcome is None:
            item.outcome = it.outcome
            item.outcome_note_id = text_id
            new.append(it.case_id)
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
    await signal_minutes_recorded(client, st.settings, meeting_id, actor, applied)
    m.state = "held"
    m.held_at = m.held_at or datetime.now(UTC)
    if new:
        session.add(_audit(request, user, "record_minutes", {"meeting_id": meeting_id, "cases": new}))
    await session.commit()
    return {"meeting_id": meeting_id, "applied": applied}
