"""The meeting rule: dates of the schedule and the agenda cut-off in working days (Saxony's holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from rules.meetings import MeetingRule, meeting_date_of, meeting_id_for
from schemas.meeting import MeetingWorkflowInput

# Every 4 weeks on Tuesday from Tuesday 2026-01-06; the agenda closes 2 working days before.
RULE = MeetingRule(weekday=1, interval_weeks=4, anchor=date(2026, 1, 6), cutoff_working_days=2, holiday_state="SN")


def test_dates_follow_the_interval_from_the_anchor() -> None:
    assert RULE.dates(date(2026, 1, 6), 3) == [date(2026, 1, 6), date(2026, 2, 3), date(2026, 3, 3)]
    assert RULE.dates(date(2026, 1, 7), 1) == [date(2026, 2, 3)]  # the day after a meeting: the next one
    assert RULE.dates(date(2025, 6, 1), 1) == [date(2026, 1, 6)]  # before the anchor: the anchor
    assert RULE.dates(date(2026, 3, 31), 2) == [date(2026, 3, 31), date(2026, 4, 28)]


def test_anchor_off_the_weekday_moves_to_the_weekday() -> None:
    rule = MeetingRule(weekday=3, interval_weeks=2, anchor=date(2026, 1, 5), cutoff_working_days=1)  # a Monday
    assert rule.dates(date(2026, 1, 1), 3) == [date(2026, 1, 8), date(2026, 1, 22), date(2026, 2, 5)]
    assert all(d.weekday() == 3 for d in rule.dates(date(2027, 5, 5), 10))


def test_cutoff_counts_working_days_back() -> None:
    # Tuesday 2026-02-03: Monday is day 1, Friday 2026-01-30 day 2 (the weekend does not count).
    assert RULE.agenda_closes_on(date(2026, 2, 3)) == date(2026, 1, 30)
    assert RULE.agenda_open(date(2026, 2, 3), date(2026, 1, 30))
    assert not RULE.agenda_open(date(2026, 2, 3), date(2026, 1, 31))
    assert not RULE.agenda_open(date(2026, 2, 3), date(2026, 2, 2))


def test_cutoff_skips_easter_holidays() -> None:
    # Tuesday 2026-04-07: Easter Monday (04-06) and Good Friday (04-03) are holidays.
    assert RULE.agenda_closes_on(date(2026, 4, 7)) == date(2026, 4, 1)


def test_cutoff_skips_saxonys_day_of_repentance() -> None:
    # Buß- und Bettag (Wednesday 2026-11-18) is a public holiday in Saxony only.
    friday = date(2026, 11, 20)
    assert MeetingRule(4, 1, friday, 2, "SN").agenda_closes_on(friday) == date(2026, 11, 17)
    assert MeetingRule(4, 1, friday, 2, "BE").agenda_closes_on(friday) == date(2026, 11, 18)


def test_cutoff_zero_closes_on_the_meeting_day() -> None:
    rule = MeetingRule(1, 4, date(2026, 1, 6), 0)
    assert rule.agenda_open(date(2026, 2, 3), date(2026, 2, 3))
    assert not rule.agenda_open(date(2026, 2, 3), date(2026, 2, 4))


def test_next_open_skips_a_closed_agenda() -> None:
    assert RULE.next_open(date(2026, 1, 29)) == date(2026, 2, 3)
    assert RULE.next_open(date(2026, 1, 31)) == date(2026, 3, 3)  # 02-03 closed on 01-30
    assert RULE.next_open(date(2026, 1, 29), after=date(2026, 2, 3)) == date(2026, 3, 3)


def test_agenda_closes_at_midnight_berlin() -> None:
    # Friday 2026-01-30 ends at 24:00 CET = 23:00 UTC.
    assert RULE.agenda_closes_at(date(2026, 2, 3)) == datetime(2026, 1, 30, 23, 0, tzinfo=UTC)
    inp = MeetingWorkflowInput.for_date(date(2026, 2, 3), RULE)
    assert inp.meeting_id == "meeting-2026-02-03"
    assert inp.starts_at == datetime(2026, 2, 2, 23, 0, tzinfo=UTC)  # 00:00 Berlin on the day
    assert inp.starts_at - inp.agenda_closes_at == timedelta(days=3)


def test_meeting_ids_round_trip() -> None:
    assert meeting_id_for(date(2026, 12, 8)) == "meeting-2026-12-08"
    assert meeting_date_of("meeting-2026-12-08") == date(2026, 12, 8)
    with pytest.raises(ValueError):
        meeting_date_of("case-2026-12-08")


def test_api_service_wrappers_use_the_settings() -> None:
    from api.meetings_service import agenda_open, scheduled_dates

    settings = SimpleNamespace(meeting_weekday=1, meeting_interval_weeks=4, meeting_anchor=date(2026, 1, 6),
                               agenda_cutoff_working_days=2, holiday_state="SN")
    assert scheduled_dates(settings, date(2026, 1, 7), 2) == [date(2026, 2, 3), date(2026, 3, 3)]  # type: ignore[arg-type]
    assert agenda_open(settings, date(2026, 4, 7), date(2026, 4, 1))  # type: ignore[arg-type]
    assert not agenda_open(settings, date(2026, 4, 7), date(2026, 4, 2))  # type: ignore[arg-type]
