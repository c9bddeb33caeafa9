"""Tests of German deadline arithmetic (§31 VwVfG, §§187-193 BGB, §57 VwGO with §222 ZPO)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.deadlines import (
    STATES,
    DeadlineResult,
    InvalidPeriod,
    InvalidState,
    add_working_days,
    appeal_deadline,
    compute_deadline,
    end_of_day,
    is_working_day,
    parse_period,
    raw_period_end,
)

# ---- parse_period ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "expected"),
    [("P1D", (1, "D")), ("P14D", (14, "D")), ("P2W", (2, "W")), ("P1M", (1, "M")), ("P1Y", (1, "Y")),
     ("P3650D", (3650, "D")), ("P520W", (520, "W")), ("P120M", (120, "M")), ("P10Y", (10, "Y"))],
)
def test_parse_period_accepts_single_unit_iso_durations(period: str, expected: tuple[int, str]) -> None:
    """§§187-188 BGB know periods in days, weeks, months and years: ISO PnD, PnW, PnM, PnY."""
    assert parse_period(period) == expected


@pytest.mark.parametrize(
    "period",
    ["", "P", "P0D", "P14", "14D", "p1d", "P1d", "P1M2D", "PT1H", "P1.5M", "P-1D", " P1D", "P1D ",
     "P3651D", "P521W", "P121M", "P11Y", "P999999D"],
)
def test_parse_period_rejects_everything_else(period: str) -> None:
    """§188 BGB gives no rule for combined, fractional, zero or time-of-day periods: rejected."""
    with pytest.raises(InvalidPeriod):
        parse_period(period)


def test_parse_period_rejects_non_strings() -> None:
    """InvalidPeriod is a ValueError, so API layers can map it to 422 (not §-specific)."""
    with pytest.raises(InvalidPeriod):
        parse_period(14)  # type: ignore[arg-type]
    assert issubclass(InvalidPeriod, ValueError) and issubclass(InvalidState, ValueError)


# ---- compute_deadline: examples --------------------------------------------------------------------


def test_api_example_saturday_moves_to_monday() -> None:
    """API.md example; §187 Abs. 1, §188 Abs. 1, §193 BGB.

    28.03.2026 + 14 days = Saturday 11.04.2026 -> Monday 13.04.2026. Easter Monday 2026 is 06.04.
    (Easter Sunday is 05.04.2026), so the 13th is an ordinary working day and the example holds.
    """
    result = compute_deadline(date(2026, 3, 28), "P14D", "SN")
    assert result == DeadlineResult(
        event=date(2026, 3, 28), period="P14D", state="SN", end=date(2026, 4, 13),
        shifted_from=date(2026, 4, 11), reason=result.reason,
    )
    assert result.reason is not None and "Saturday" in result.reason and "Sunday" in result.reason
    assert "§193 BGB" in result.reason


def test_days_period_starts_day_after_event() -> None:
    """§187 Abs. 1, §188 Abs. 1 BGB: event Monday 02.03.2026 + 3 days ends Thursday 05.03.2026."""
    result = compute_deadline(date(2026, 3, 2), "P3D")
    assert result.end == date(2026, 3, 5)
    assert result.shifted_from is None and result.reason is None


def test_weeks_end_on_same_weekday() -> None:
    """§188 Abs. 2 BGB: a period of weeks ends on the day with the event day's name (Tuesday)."""
    result = compute_deadline(date(2026, 3, 3), "P2W")
    assert result.end == date(2026, 3, 17)
    assert result.end.weekday() == date(2026, 3, 3).weekday()


def test_month_end_clipping_non_leap_year() -> None:
    """§188 Abs. 3 BGB: 31 January 2025 + 1 month ends on Friday 28 February 2025."""
    result = compute_deadline(date(2025, 1, 31), "P1M")
    assert result.end == date(2025, 2, 28) and result.shifted_from is None


def test_month_end_clipping_leap_year() -> None:
    """§188 Abs. 3 BGB: 31 January 2024 (leap year) + 1 month ends on Thursday 29 February 2024."""
    assert compute_deadline(date(2024, 1, 31), "P1M").end == date(2024, 2, 29)


def test_clipped_end_on_saturday_still_moves() -> None:
    """§188 Abs. 3 then §193 BGB: 31.01.2026 + 1 month = Saturday 28.02.2026 -> Monday 02.03.2026."""
    result = compute_deadline(date(2026, 1, 31), "P1M")
    assert result.shifted_from == date(2026, 2, 28)
    assert result.end == date(2026, 3, 2)


def test_leap_day_plus_one_year() -> None:
    """§188 Abs. 2, 3 BGB: 29.02.2024 + 1 year: February 2025 has no 29th, so Friday 28.02.2025."""
    assert compute_deadline(date(2024, 2, 29), "P1Y").end == date(2025, 2, 28)


def test_leap_day_plus_four_years_keeps_the_29th() -> None:
    """§188 Abs. 2 BGB: 29.02.2024 + 4 years ends on Tuesday 29.02.2028, which exists."""
    assert compute_deadline(date(2024, 2, 29), "P4Y").end == date(2028, 2, 29)


def test_saxony_buss_und_bettag() -> None:
    """§193 BGB with Saxon holiday law: Buß- und Bettag 18.11.2026 (Wednesday) is a holiday in SN only.

    04.11.2026 + 14 days = 18.11.2026: in Saxony it moves to Thursday 19.11.; in Berlin it does not.
    """
    saxony = compute_deadline(date(2026, 11, 4), "P14D", "SN")
    assert saxony.end == date(2026, 11, 19)
    assert saxony.shifted_from == date(2026, 11, 18)
    assert saxony.reason is not None and "Repentance and Prayer Day" in saxony.reason
    assert saxony.reason is not None and "Wednesday" in saxony.reason
    berlin = compute_deadline(date(2026, 11, 4), "P14D", "BE")
    assert berlin.end == date(2026, 11, 18) and berlin.shifted_from is None


def test_saxony_reformationstag() -> None:
    """§193 BGB: Reformationstag 31.10. is a holiday in SN (not in BE, BW).

    17.10.2025 + 14 days = Friday 31.10.2025 -> SN: Saturday, Sunday follow -> Monday 03.11.2025.
    """
    saxony = compute_deadline(date(2025, 10, 17), "P14D", "SN")
    assert saxony.end == date(2025, 11, 3)
    assert saxony.reason is not None and "Reformation Day" in saxony.reason
    assert compute_deadline(date(2025, 10, 17), "P14D", "BE").end == date(2025, 10, 31)
    assert compute_deadline(date(2025, 10, 17), "P14D", "BW").end == date(2025, 10, 31)


def test_easter_chain_moves_past_all_non_working_days() -> None:
    """§193 BGB applied repeatedly: Good Friday 03.04.2026, weekend, Easter Monday -> Tuesday 07.04."""
    result = compute_deadline(date(2026, 3, 3), "P1M", "SN")
    assert result.shifted_from == date(2026, 4, 3)
    assert result.end == date(2026, 4, 7)
    assert result.reason is not None
    assert "Good Friday" in result.reason and "Easter Monday" in result.reason


def test_year_end_new_year() -> None:
    """§193 BGB over the year boundary: 01.12.2025 + 1 month = New Year 01.01.2026 -> Friday 02.01.2026."""
    result = compute_deadline(date(2025, 12, 1), "P1M")
    assert result.end == date(2026, 1, 2)
    assert result.reason is not None and "New Year" in result.reason


def test_year_end_christmas() -> None:
    """§193 BGB: 25.11.2026 + 1 month = Christmas Day (Friday), 26.12. (Saturday, holiday) -> Monday 28.12."""
    result = compute_deadline(date(2026, 11, 25), "P1M")
    assert result.end == date(2026, 12, 28)
    assert result.reason is not None and "Christmas Day" in result.reason


def test_state_specific_holiday_bavaria_epiphany() -> None:
    """§193 BGB uses the holidays at the place: Epiphany (06.01.) is a holiday in BY, not in SN."""
    assert compute_deadline(date(2025, 12, 30), "P7D", "BY").end == date(2026, 1, 7)
    assert compute_deadline(date(2025, 12, 30), "P7D", "SN").end == date(2026, 1, 6)


@pytest.mark.parametrize("state", ["XX", "sn", "", "Augsburg", "DE"])
def test_invalid_state(state: str) -> None:
    """§193 BGB needs the place's holidays: only the 16 German state codes are accepted."""
    with pytest.raises(InvalidState):
        compute_deadline(date(2026, 3, 28), "P14D", state)


def test_all_sixteen_states_are_accepted() -> None:
    """§193 BGB: every German state has its own holiday law; all 16 codes work."""
    assert len(STATES) == 16
    for state in STATES:
        assert compute_deadline(date(2026, 3, 28), "P14D", state).end >= date(2026, 4, 11)


def test_datetime_event_rejected() -> None:
    """§187 Abs. 1 BGB counts whole days; a datetime would hide a time zone question, so it is refused."""
    with pytest.raises(TypeError):
        compute_deadline(datetime(2026, 3, 28, 12, 0), "P14D")  # type: ignore[arg-type]


# ---- end_of_day ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 15), datetime(2026, 1, 15, 23, 0, tzinfo=UTC)),  # CET, UTC+1
        (date(2026, 7, 1), datetime(2026, 7, 1, 22, 0, tzinfo=UTC)),  # CEST, UTC+2
        (date(2026, 3, 29), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),  # DST starts that night
        (date(2026, 10, 25), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),  # DST ended that night
        (date(2026, 12, 31), datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),
    ],
)
def test_end_of_day_is_midnight_berlin(day: date, expected: datetime) -> None:
    """§188 Abs. 1 BGB: a deadline ends "mit dem Ablauf des letzten Tages", 24:00 Europe/Berlin."""
    result = end_of_day(day)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


def test_end_of_day_unknown_zone() -> None:
    """§188 Abs. 1 BGB needs the local day; an unknown time zone is a ValueError."""
    with pytest.raises(ValueError):
        end_of_day(date(2026, 1, 1), "Mars/Olympus")


# ---- appeal_deadline -------------------------------------------------------------------------------


def test_appeal_deadline_one_month_with_remedies_notice() -> None:
    """§§70, 74 VwGO: one month; 20.11.2026 + 1 month = Sunday 20.12. -> Monday 21.12. (§222 Abs. 2 ZPO)."""
    result = appeal_deadline(date(2026, 11, 20))
    assert result.period == "P1M"
    assert result.end == date(2026, 12, 21) and result.shifted_from == date(2026, 12, 20)
    assert any("Widerspruch" in text for text in result.uncertain)


def test_appeal_deadline_one_year_without_remedies_notice() -> None:
    """§58 Abs. 2 VwGO: one year; 20.11.2026 + 1 year = Saturday 20.11.2027 -> Monday 22.11.2027."""
    result = appeal_deadline(date(2026, 11, 20), with_remedies_notice=False)
    assert result.period == "P1Y"
    assert result.end == date(2027, 11, 22)
    assert any("§58 Abs. 2 VwGO" in text for text in result.uncertain)


# ---- working days ----------------------------------------------------------------------------------


def test_is_working_day() -> None:
    """§193 BGB: Saturdays, Sundays and state holidays are not working days; Monday-Friday otherwise."""
    assert is_working_day(date(2026, 11, 17), "SN")  # Tuesday
    assert not is_working_day(date(2026, 11, 18), "SN")  # Buß- und Bettag
    assert is_working_day(date(2026, 11, 18), "BE")
    assert not is_working_day(date(2026, 11, 21), "SN")  # Saturday
    assert not is_working_day(date(2026, 11, 22), "SN")  # Sunday


def test_add_working_days_backwards_before_meeting() -> None:
    """§193 BGB working days: 2 working days before Wednesday 09.12.2026 is Monday 07.12.2026."""
    assert add_working_days(date(2026, 12, 9), -2) == date(2026, 12, 7)


def test_add_working_days_skips_easter() -> None:
    """§193 BGB: 2 working days before Wednesday 08.04.2026 skip Easter Monday and Good Friday."""
    assert add_working_days(date(2026, 4, 8), -2) == date(2026, 4, 2)
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_add_working_days_zero_and_invalid_state() -> None:
    """§193 BGB: zero working days is the day itself; unknown states are rejected."""
    assert add_working_days(date(2026, 4, 4), 0) == date(2026, 4, 4)
    with pytest.raises(InvalidState):
        add_working_days(date(2026, 4, 4), 1, "XX")


# ---- properties ------------------------------------------------------------------------------------

_events = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
_states = st.sampled_from(STATES)
_periods = st.one_of(
    st.integers(1, 400).map(lambda n: f"P{n}D"),
    st.integers(1, 60).map(lambda n: f"P{n}W"),
    st.integers(1, 120).map(lambda n: f"P{n}M"),
    st.integers(1, 10).map(lambda n: f"P{n}Y"),
)


def _is_non_working(d: date, state: str) -> bool:
    """Independent oracle for §193 BGB: weekend or public holiday per the holidays package."""
    return d.weekday() >= 5 or d in holidays.country_holidays("DE", subdiv=state, years=d.year)


@settings(max_examples=300, deadline=None)
@given(event=_events, period=_periods, state=_states)
def test_property_end_is_a_working_day_not_before_raw_end(event: date, period: str, state: str) -> None:
    """§193 BGB: the end never falls on a weekend or holiday and is never before the §188 raw end."""
    result = compute_deadline(event, period, state)
    raw = raw_period_end(event, period)
    assert not _is_non_working(result.end, state)
    assert result.end >= raw
    # the move is minimal: every skipped day was a non-working day
    day = raw
    while day < result.end:
        assert _is_non_working(day, state)
        day += timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(event=_events, period=_periods, state=_states)
def test_property_shifted_from_iff_moved(event: date, period: str, state: str) -> None:
    """§193 BGB: shifted_from (and reason) is set exactly when the end differs from the raw end."""
    result = compute_deadline(event, period, state)
    raw = raw_period_end(event, period)
    assert (result.shifted_from is None) == (result.end == raw)
    assert (result.reason is None) == (result.shifted_from is None)
    if result.shifted_from is not None:
        assert result.shifted_from == raw


@settings(max_examples=300, deadline=None)
@given(event=_events, n=st.integers(1, 120))
def test_property_months_keep_day_unless_clipped(event: date, n: int) -> None:
    """§188 Abs. 2, 3 BGB: n months end on the event's day number, or the month's last day if missing."""
    raw = raw_period_end(event, f"P{n}M")
    months = (raw.year - event.year) * 12 + raw.month - event.month
    assert months == n
    last = calendar.monthrange(raw.year, raw.month)[1]
    if event.day <= last:
        assert raw.day == event.day
    else:
        assert raw.day == last


@settings(max_examples=300, deadline=None)
@given(event=_events, n=st.integers(1, 400))
def test_property_days_and_weeks(event: date, n: int) -> None:
    """§187 Abs. 1, §188 Abs. 1, 2 BGB: n days end n days after the event; weeks on the same weekday."""
    assert raw_period_end(event, f"P{n}D") == event + timedelta(days=n)
    if n <= 520:
        weeks = raw_period_end(event, f"P{n}W")
        assert weeks.weekday() == event.weekday() and (weeks - event).days == 7 * n


@settings(max_examples=200, deadline=None)
@given(d=_events, n=st.integers(-30, 30), state=_states)
def test_property_add_working_days_lands_on_working_day(d: date, n: int, state: str) -> None:
    """§193 BGB working days: a non-zero step always lands on a working day in the right direction."""
    result = add_working_days(d, n, state)
    if n == 0:
        assert result == d
    else:
        assert is_working_day(result, state)
        assert (result > d) == (n > 0)
