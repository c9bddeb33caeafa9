"""The joint-meeting rule: on which dates meetings fall and until when their agenda is open.

Pure: no I/O, no clock. Working days are those of §193 BGB in the configured state (rules.deadlines).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules.deadlines import add_working_days, end_of_day

BERLIN = ZoneInfo("Europe/Berlin")


def local_date(t: datetime) -> date:
    """The calendar day in Germany at instant `t` (workflows pass workflow.now())."""
    return t.astimezone(BERLIN).date()


def meeting_id_for(d: date) -> str:
    """The meeting's business id, also its workflow id: `meeting-YYYY-MM-DD`."""
    return f"meeting-{d.isoformat()}"


def meeting_date_of(meeting_id: str) -> date:
    """The date in a meeting id; ValueError for anything else."""
    if not meeting_id.startswith("meeting-"):
        raise ValueError(f"not a meeting id: {meeting_id!r}")
    return date.fromisoformat(meeting_id.removeprefix("meeting-"))


@dataclass(frozen=True)
class MeetingRule:
    """Every `interval_weeks` weeks on `weekday` (0 = Monday) from `anchor`; the agenda closes `cutoff` days before."""

    weekday: int
    interval_weeks: int
    anchor: date
    cutoff_working_days: int
    holiday_state: str = "SN"

    @classmethod
    def of(cls, settings: Any) -> MeetingRule:
        """The rule from an object with the `meeting_*` settings (core.settings.Settings)."""
        return cls(weekday=settings.meeting_weekday, interval_weeks=settings.meeting_interval_weeks,
                   anchor=settings.meeting_anchor, cutoff_working_days=settings.agenda_cutoff_working_days,
                   holiday_state=settings.holiday_state)

    def dates(self, start: date, count: int = 3) -> list[date]:
        """The next `count` meeting dates on or after `start`."""
        step = timedelta(weeks=self.interval_weeks)
        anchor = self.anchor + timedelta(days=(self.weekday - self.anchor.weekday()) % 7)
        if start <= anchor:
            first = anchor
        else:
            periods = -(-(start - anchor).days // step.days)
            first = anchor + periods * step
        return [first + i * step for i in range(count)]

    def agenda_closes_on(self, meeting_date: date) -> date:
        """The last day a case may join the agenda: `cutoff` working days before the meeting."""
        return add_working_days(meeting_date, -self.cutoff_working_days, self.holiday_state)

    def agenda_open(self, meeting_date: date, today: date) -> bool:
        return today <= self.agenda_closes_on(meeting_date)

    def agenda_closes_at(self, meeting_date: date) -> datetime:
        """The instant the agenda closes: 24:00 Europe/Berlin of the last open day."""
        return end_of_day(self.agenda_closes_on(meeting_date))

    def next_open(self, today: date, *, after: date | None = None) -> date:
        """The first scheduled date (after `after`, if given) whose agenda is still open on `today`."""
        start = max(today, after + timedelta(days=1)) if after else today
        for d in self.dates(start, 8):
            if self.agenda_open(d, today):
                return d
        raise ValueError("no open meeting within eight intervals")  # only with a cut-off beyond the interval
