"""The iCalendar feed: the user's meetings and the deadlines of the cases they see (API.md "Joint meetings").

Calendar programs cannot send a bearer token, so the feed also accepts a per-user feed token in the
URL (`?token=`); it only opens this feed, is stored as a hash and rotates on every issue. The feed
names cases by reference only (operations by case id), never by a person's name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from icalendar import Calendar, Event
from sqlalchemy import select

from api import casework
from api.deps import CurrentUser, SessionDep, StateDep, current_user
from api.problems import Problem
from api.ui import labels
from rules.lifecycle import Institution
from store.models import AuditEvent, Case, Meeting, User
from store.users import hash_token, new_token

router = APIRouter(prefix="/api/v1", tags=["calendar"])

ACTIVE_DEADLINES = ("pending", "reminded")
MEETINGS_SINCE = timedelta(days=90)


async def feed_user(request: Request, session: SessionDep, token: str | None) -> User:
    """The user of a feed token, or of the usual bearer token / session; 401 otherwise."""
    if token is None:
        return await current_user(request, session)
    user = await session.scalar(select(User).where(User.feed_token_hash == hash_token(token)))
    if user is None or user.revoked_at is not None:
        raise Problem(401, "Kalender-Token ungültig oder ersetzt.")
    return user


def _event(uid: str, summary: str, day: date, stamp: datetime, description: str | None = None) -> Event:
    ev = Event()
    ev.add("uid", uid)
    ev.add("dtstamp", stamp)
    ev.add("summary", summary)
    ev.add("dtstart", day)  # all-day
    ev.add("dtend", day + timedelta(days=1))
    ev.add("transp", "TRANSPARENT")
    if description:
        ev.add("description", description)
    return ev


async def build_calendar(session: SessionDep, user: User, host: str) -> bytes:
    """The feed: meetings from 90 days back on, and every open deadline of the cases the user may see."""
    now = datetime.now(UTC)
    cal = Calendar()
    cal.add("prodid", "-//Bleibe//Austauschtreffen und Fristen//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Bleibe: Austauschtreffen und Fristen")
    cal.add("x-wr-timezone", "Europe/Berlin")
    meetings = (await session.scalars(
        select(Meeting).where(Meeting.date >= (now - MEETINGS_SINCE).date()).order_by(Meeting.date)
    )).all()
    for m in meetings:
        state = labels.MEETING_STATES.get(m.state, m.state)
        cal.add_component(_event(f"{m.id}@{host}", m.title, m.date, now,
                                 f"Tagesordnung: /meetings/{m.id} (Stand: {state})"))
    cases = (await session.scalars(
        select(Case).where(casework.visibility_filter(user), Case.next_deadline.is_not(None)).order_by(Case.id)
    )).all()
    for c in cases:
        # Operations see process data only: the case id stands in for the reference.
        name = c.id if user.institution == Institution.OPERATIONS else c.reference
        for d in c.deadlines or []:
            if d.get("state") not in ACTIVE_DEADLINES:
                continue
            kind = labels.DEADLINE_KINDS.get(d["kind"], d["kind"])
            cal.add_component(_event(f"{c.id}-{d['kind']}-{d['due']}@{host}", f"Frist: {kind} – {name}",
                                     date.fromisoformat(d["due"]), now, f"Fall: /cases/{c.id}"))
    return bytes(cal.to_ical())


@router.get("/calendar.ics", summary="Meetings and deadlines as an iCalendar feed",
            responses={200: {"content": {"text/calendar": {}}}})
async def calendar_ics(request: Request, session: SessionDep, st: StateDep,
                       token: str | None = Query(default=None, max_length=200)) -> Response:
    user = await feed_user(request, session, token)
    host = st.settings.base_url.split("://", 1)[-1].split("/", 1)[0] or "bleibe"
    body = await build_calendar(session, user, host)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="bleibe.ics"', "Cache-Control": "private"})


@router.post("/calendar/feed-token", summary="Issue (or rotate) the user's calendar feed token")
async def issue_feed_token(request: Request, session: SessionDep, user: CurrentUser, st: StateDep) -> dict[str, Any]:
    """A new feed token; the previous one stops working. The token is shown once, stored as a hash."""
    token = new_token()
    user.feed_token_hash = hash_token(token)
    session.add(AuditEvent(at=datetime.now(UTC), case_id=None, seq=None, actor_id=user.id, role=user.role,
                           institution=user.institution, action="issue_feed_token", details={},
                           request_id=getattr(request.state, "request_id", None)))
    await session.commit()
    url = f"{st.settings.base_url.rstrip('/')}/api/v1/calendar.ics?token={token}"
    return {"token": token, "url": url}
