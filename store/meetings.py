"""Meeting rows: create one idempotently, find the meeting a referred or carried-over case joins."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rules.meetings import MeetingRule, meeting_id_for
from store.models import Meeting

PLANNED = "planned"
HELD = "held"


async def ensure_meeting(session: AsyncSession, d: date, title: str | None = None) -> Meeting:
    """The meeting on `d`, created (and committed) when there is none; safe against a concurrent create."""
    mid = meeting_id_for(d)
    found = await session.get(Meeting, mid)
    if found is not None:
        return found
    m = Meeting(id=mid, date=d, title=title or f"Austauschtreffen {d.strftime('%d.%m.%Y')}", state=PLANNED)
    session.add(m)
    try:
        await session.commit()
    except IntegrityError:  # created concurrently
        await session.rollback()
        found = await session.get(Meeting, mid)
        if found is None:
            raise
        return found
    return m


async def _planned_from(session: AsyncSession, start: date) -> list[Meeting]:
    return list((await session.scalars(
        select(Meeting).where(Meeting.state == PLANNED, Meeting.date >= start).order_by(Meeting.date)
    )).all())


async def meeting_for_referral(session: AsyncSession, rule: MeetingRule, today: date) -> Meeting:
    """The next planned meeting whose agenda is open; one is created from the schedule when none is."""
    for m in await _planned_from(session, today):
        if rule.agenda_open(m.date, today):
            return m
    for d in rule.dates(today, 8):
        if not rule.agenda_open(d, today):
            continue
        m = await ensure_meeting(session, d)
        if m.state == PLANNED:  # a meeting held early no longer takes cases
            return m
    raise ValueError("no meeting with an open agenda within eight intervals")


async def meeting_after(session: AsyncSession, rule: MeetingRule, after: date, today: date) -> Meeting:
    """The planned meeting a case left open by the meeting on `after` moves to (the cut-off does not apply)."""
    start = max(after + timedelta(days=1), today)
    planned = await _planned_from(session, start)
    if planned:
        return planned[0]
    for d in rule.dates(start, 8):
        m = await ensure_meeting(session, d)
        if m.state == PLANNED:
            return m
    raise ValueError("no planned meeting within eight intervals")
