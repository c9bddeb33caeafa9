"""Joint meetings for the API and the UI: which meeting a case joins, the meeting workflows, the agenda
(as data, HTML and PDF). Routes (api/routes/meetings.py) and pages build on these functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import structlog
from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api import casework
from api.deps import RPC_TIMEOUT
from api.problems import unavailable
from api.ui import labels
from core.settings import Settings
from rules.meetings import MeetingRule, meeting_date_of
from rules.meetings import meeting_id_for as meeting_id_for
from schemas.case import Actor
from schemas.meeting import MEETING_WORKFLOW, MeetingWorkflowInput, MinutesRecordedInput
from store import meetings as store_meetings
from store.models import AgendaItem, Case, Meeting, Note, User

log = structlog.get_logger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
_jinja = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))

AGENDA_OUTCOMES: dict[str, str] = {**labels.MEETING_OUTCOMES, "carried_over": "Vertagt auf das nächste Treffen"}


# ---- the schedule ------------------------------------------------------------------------------------


def meeting_rule(settings: Settings) -> MeetingRule:
    return MeetingRule.of(settings)


def scheduled_dates(settings: Settings, start: date, count: int = 3) -> list[date]:
    """The next `count` dates of the meeting rule on or after `start`."""
    return meeting_rule(settings).dates(start, count)


def agenda_open(settings: Settings, meeting_date: date, today: date) -> bool:
    """The agenda closes `cutoff` working days before the meeting (the state's holidays count)."""
    return meeting_rule(settings).agenda_open(meeting_date, today)


async def ensure_meeting(session: AsyncSession, d: date, title: str | None = None) -> Meeting:
    """The meeting row on `d`, created when missing (no workflow; see `ensure_meeting_workflow`)."""
    return await store_meetings.ensure_meeting(session, d, title)


async def meeting_for_referral(session: AsyncSession, today: date, settings: Settings) -> str:
    """The id of the next planned meeting with an open agenda; created from the schedule when none is."""
    return (await store_meetings.meeting_for_referral(session, meeting_rule(settings), today)).id


# ---- the meeting workflows -----------------------------------------------------------------------------


def workflow_input(settings: Settings, meeting_id: str) -> MeetingWorkflowInput:
    return MeetingWorkflowInput.for_date(meeting_date_of(meeting_id), meeting_rule(settings))


async def ensure_meeting_workflow(client: Client, settings: Settings, meeting_id: str) -> None:
    """Start the meeting's workflow unless it runs or ran already; 503 when Temporal is unreachable."""
    try:
        await client.start_workflow(
            MEETING_WORKFLOW, workflow_input(settings, meeting_id), id=meeting_id, task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            rpc_timeout=RPC_TIMEOUT,
        )
    except WorkflowAlreadyStartedError:
        pass  # finished: its minutes are recorded
    except (RPCError, TimeoutError) as exc:
        raise unavailable("Temporal") from exc


async def signal_minutes_recorded(client: Client, settings: Settings, meeting_id: str, actor: Actor,
                                  case_ids: list[str]) -> None:
    """Tell the meeting workflow its minutes are in (started first if it never ran); repeats are harmless."""
    try:
        await client.start_workflow(
            MEETING_WORKFLOW, workflow_input(settings, meeting_id), id=meeting_id, task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            start_signal="minutes_recorded",
            start_signal_args=[MinutesRecordedInput(meeting_id=meeting_id, actor=actor, case_ids=case_ids)],
            rpc_timeout=RPC_TIMEOUT,
        )
    except WorkflowAlreadyStartedError:
        pass  # finished: a retried request after the carry-over
    except (RPCError, TimeoutError) as exc:
        raise unavailable("Temporal") from exc


# ---- the agenda --------------------------------------------------------------------------------------


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def open_questions(case: Case) -> list[str]:
    """What is still open on a case, from its read model: missing documents and missed deadlines."""
    state = case.state or {}
    out = []
    for d in state.get("documents", []):
        if d.get("state") in ("missing", "expired"):
            label = labels.DOC_STATES.get(d["state"], d["state"])
            out.append(f"{labels.DOCUMENT_TYPES.get(d['type'], d['type'])}: {label}")
    for d in state.get("deadlines", []):
        if d.get("state") == "missed":
            out.append(f"{labels.DEADLINE_KINDS.get(d['kind'], d['kind'])} versäumt ({d['due']})")
    return out


async def agenda_items(session: AsyncSession, user: User, meeting: Meeting) -> list[dict[str, Any]]:
    """The agenda, pseudonymous, longest-waiting first; each side sees only the cases it may see.

    Item keys: case_id, reference, stage, pathway, reason, referred_by, referred_at, outcome,
    days_in_stage, open_questions.
    """
    rows = (await session.execute(
        select(AgendaItem, Case).join(Case, Case.id == AgendaItem.case_id).where(AgendaItem.meeting_id == meeting.id)
    )).all()
    now = datetime.now(UTC)
    items = []
    for item, case in sorted(rows, key=lambda r: (_aware(r[1].stage_entered_at), r[1].id)):
        if not casework.visible(user, case):
            continue
        reason = await session.get(Note, item.reason_id) if item.reason_id else None
        items.append({
            "case_id": case.id, "reference": case.reference, "stage": case.stage, "pathway": case.pathway,
            "reason": reason.text if reason is not None and casework.note_readable(user, reason) else None,
            "referred_by": item.referred_by, "referred_at": _aware(item.referred_at).isoformat(),
            "outcome": item.outcome,
            "days_in_stage": (now - _aware(case.stage_entered_at)).days,
            "open_questions": open_questions(case),
        })
    return items


def _view(meeting: Meeting, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "title": meeting.title,
        "date": meeting.date.strftime("%d.%m.%Y"),
        "state": labels.MEETING_STATES.get(meeting.state, meeting.state),
        "items": [
            {**i, "stage_label": labels.STAGES.get(i["stage"], i["stage"]),
             "pathway_label": i["pathway"] or "–",
             "outcome_label": AGENDA_OUTCOMES.get(i["outcome"], i["outcome"]) if i.get("outcome") else ""}
            for i in items
        ],
    }


def render_agenda_html(meeting: Meeting, items: list[dict[str, Any]]) -> str:
    """The printable agenda (a whole HTML page, German, pseudonymous) from `agenda_items`."""
    return _jinja.get_template("agenda_print.html").render(**_view(meeting, items))


_LATIN1 = str.maketrans({"–": "-", "—": "-", "„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'", "’": "'",
                         "…": "...", "€": "EUR", "\u00a0": " "})


def _pdf_text(text: str) -> str:
    """The PDF core fonts speak Latin-1 (umlauts and ß included); anything else becomes '?'."""
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def render_agenda_pdf(meeting: Meeting, items: list[dict[str, Any]]) -> bytes:
    """The agenda as PDF (A4 landscape), pseudonymous: reference, stage, pathway, reason, open questions."""
    view = _view(meeting, items)
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(_pdf_text(f"Tagesordnung {view['title']}"))
    pdf.set_author("Bleibe")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _pdf_text(f"Tagesordnung: {view['title']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _pdf_text(f"Datum: {view['date']} · Stand: {view['state']} · {len(items)} Fälle, "
                             "sortiert nach Wartezeit (längste zuerst)"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if not items:
        pdf.cell(0, 8, "Keine Fälle auf der Tagesordnung.", new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
    headings = ("Nr.", "Aktenzeichen", "Stand", "Weg", "Anlass", "Offene Fragen", "Tage im Stand", "Ergebnis")
    widths = (10, 36, 30, 14, 70, 70, 20, 27)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=5, first_row_as_headings=True) as table:
        head = table.row()
        for h in headings:
            head.cell(_pdf_text(h))
        for n, i in enumerate(view["items"], 1):
            row = table.row()
            for value in (str(n), i["reference"], i["stage_label"], i["pathway_label"], i["reason"] or "",
                          "; ".join(i["open_questions"]), str(i["days_in_stage"]), i["outcome_label"]):
                row.cell(_pdf_text(value))
    return bytes(pdf.output())
