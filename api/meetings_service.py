"""Which meeting a referred case joins: the next planned one whose agenda is still open."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from rules.deadlines import add_working_days
from store.models import Meeting


def meeting_id_for(d: date) -> str:
    return f"meeting-{d.isoformat()}"


def scheduled_dates(settings: Settings, start: date, count: int = 3) -> list[date]:
    """The next `count` dates of the meeting rule on or after `start`."""
    step = timedelta(weeks=settings.meeting_interval_weeks)
    anchor = settings.meeting_anchor + timedelta(days=(settings.meeting_weekday - settings.meeting_anchor.weekday()) % 7)
    if start <= anchor:
        first = anchor
    else:
        periods = -(-(start - anchor).days // step.days)
        first = anchor + periods * step
    return [first + i * step for i in range(count)]


def agenda_open(settings: Settings, meeting_date: date, today: date) -> bool:
    """The agenda closes `cutoff` working days before the meeting (Saxony's holidays count)."""
    return today <= add_working_days(meeting_date, -settings.agenda_cutoff_working_days, settings.holiday_state)


async def ensure_meeting(session: AsyncSession, d: date, title: str | None = None) -> Meeting:
    mid = meeting_id_for(d)
    found = await session.get(Meeting, mid)
    if found is not None:
        return found
    m = Meeting(id=mid, date=d, title=title or f"Austauschtreffen {d.strftime('%d.%m.%Y')}", state="planned")
    session.add(m)
    try:
        await session.commit()
    except IntegrityError:  # created concurrently
        await session.rollback()
        found = await session.get(Meeting, mid)
        assert found is not None
        return found
    return m


async def meeting_for_referral(session: AsyncSession, today: date, settings: Settings) -> str:
    """The next planned meeting with an open agenda; one is created from the schedule when none is."""
    planned = (
        await session.scalars(select(Meeting).where(Meeting.state == "planned", Meeting.date >= today)
                              .order_by(Meeting.date))
    ).all()
    for m in planned:
        if agenda_open(settings, m.date, today):
            return m.id
    for d in scheduled_dates(settings, today, 6):
        if agenda_open(settings, d, today):
            return (await ensure_meeting(session, d)).id
    raise AssertionError("no meeting date within six intervals")  # unreachable with a cutoff < interval
