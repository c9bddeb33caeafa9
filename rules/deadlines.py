"""German deadline arithmetic (Fristberechnung) for authority and court deadlines.

Legal basis:

- §31 Abs. 1 VwVfG (applied in Saxony through §1 SächsVwVfZG) and §57 Abs. 2 VwGO with §222 Abs. 1 ZPO
  declare §§187-193 BGB applicable to administrative and court deadlines.
- §187 Abs. 1 BGB: a period triggered by an event (notification, delivery) starts the day after it.
- §188 Abs. 1 BGB: a period in days ends at the end of its last day.
- §188 Abs. 2 BGB: a period in weeks, months or years ends at the end of the day that has the same
  name (weekday) or number as the event day.
- §188 Abs. 3 BGB: where the last month has no such day, the period ends on the last day of that month.
- §193 BGB, §222 Abs. 2 ZPO, §31 Abs. 3 VwVfG: an end on a Saturday, Sunday or public holiday at the
  place moves to the end of the next working day.

Everything here is pure: no I/O, no clock. Public holidays come from the ``holidays`` package.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "STATES",
    "DeadlineResult",
    "InvalidPeriod",
    "InvalidState",
    "add_months",
    "add_working_days",
    "appeal_deadline",
    "compute_deadline",
    "end_of_day",
    "holiday_name",
    "is_working_day",
    "parse_period",
    "raw_period_end",
]

#: The 16 German states (ISO 3166-2:DE subdivision codes) whose public holidays are known.
STATES: tuple[str, ...] = (
    "BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH",
)

# Upper bounds per unit: all roughly ten years. Real deadlines in this domain are at most one year
# (§58 Abs. 2 VwGO); the bound only rejects input that is certainly a typo.
_MAX_PER_UNIT: dict[str, int] = {"D": 3650, "W": 520, "M": 120, "Y": 10}
_PERIOD_RE = re.compile(r"P([0-9]{1,5})([DWMY])")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class InvalidPeriod(ValueError):
    """The period is not an ISO 8601 duration of the form PnD, PnW, PnM or PnY within bounds."""


class InvalidState(ValueError):
    """The state is not one of the 16 German state codes (e.g. "SN" for Saxony)."""


@dataclass(frozen=True)
class DeadlineResult:
    """The end of a deadline and why it was moved, if it was.

    ``end`` is the last day of the period; the deadline runs until 24:00 Europe/Berlin on that day
    (see :func:`end_of_day`). ``shifted_from`` is the raw end per §188 BGB when §193 BGB moved it,
    else None; ``reason`` explains the move in plain English (weekday or holiday names), else None.
    ``uncertain`` lists legal points the caller should check (empty for plain arithmetic).
    """

    event: date
    period: str
    state: str
    end: date
    shifted_from: date | None
    reason: str | None
    uncertain: tuple[str, ...] = ()


def parse_period(period: str) -> tuple[int, str]:
    """Parse an ISO 8601 period "PnD", "PnW", "PnM" or "PnY" into ``(n, unit)``.

    ``unit`` is one of "D", "W", "M", "Y". ``n`` must be at least 1 and at most about ten years
    (3650 days, 520 weeks, 120 months, 10 years). Combined durations such as "P1M2D" are rejected:
    German law has no such deadlines and §§187-188 BGB give no rule for combining units.

    Raises:
        InvalidPeriod: for anything else.
    """
    if not isinstance(period, str):
        raise InvalidPeriod(f"period must be a string like 'P14D', got {type(period).__name__}")
    match = _PERIOD_RE.fullmatch(period)
    if match is None:
        raise InvalidPeriod(f"period {period!r} is not one of PnD, PnW, PnM, PnY (e.g. 'P14D', 'P1M')")
    n, unit = int(match.group(1)), match.group(2)
    if not 1 <= n <= _MAX_PER_UNIT[unit]:
        upper = _MAX_PER_UNIT[unit]
        raise InvalidPeriod(f"period {period!r}: n must be between 1 and {upper} for unit {unit}")
    return n, unit


def _check_state(state: str) -> str:
    """Return ``state`` if it is a German state code, else raise InvalidState."""
    if not isinstance(state, str) or state not in STATES:
        raise InvalidState(f"state {state!r} is not a German state code ({', '.join(STATES)})")
    return state


def _check_date(value: object, name: str) -> date:
    """Return ``value`` if it is a plain date; datetimes are rejected to avoid silent timezone errors."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}")
    return value


@lru_cache(maxsize=512)
def _holidays(state: str, year: int) -> dict[date, str]:
    """Public holidays of ``state`` in ``year`` as an immutable-by-convention dict (cached).

    A plain dict copy is cached instead of the ``holidays`` object because that object grows itself
    when asked about other years, which would make a shared cache mutable.
    """
    # UNCERTAIN: §193 BGB refers to holidays "am Erklärungs- oder Leistungsort". Holidays that only some
    # municipalities keep (e.g. Fronleichnam in parts of Saxony and Thuringia, Mariä Himmelfahrt in
    # Catholic parts of Bavaria, the Augsburger Friedensfest) are not included; for Dresden none applies.
    found = holidays.country_holidays("DE", subdiv=state, years=year, language="en_US")
    return dict(found.items())


def holiday_name(d: date, state: str = "SN") -> str | None:
    """Name (English) of the public holiday of ``state`` on ``d``, or None (§193 BGB "Feiertag")."""
    _check_state(state)
    return _holidays(state, d.year).get(d)


def is_working_day(d: date, state: str = "SN") -> bool:
    """Whether ``d`` is a working day in the sense of §193 BGB / §222 Abs. 2 ZPO.

    Saturdays are ordinary "Werktage" in general law, but §193 BGB and §222 Abs. 2 ZPO treat them
    like Sundays and holidays for deadlines, so here a working day is Monday to Friday and not a
    public holiday of the state.
    """
    _check_date(d, "d")
    _check_state(state)
    return d.weekday() < 5 and d not in _holidays(state, d.year)


def add_working_days(d: date, n: int, state: str = "SN") -> date:
    """Return the date ``n`` working days after ``d`` (before it when ``n`` is negative).

    ``d`` itself is never counted, so ``add_working_days(wednesday, -2)`` is the Monday before and a
    Friday + 1 is the next Monday. ``n == 0`` returns ``d`` unchanged even if it is not a working day.
    Working days are as in :func:`is_working_day` (§193 BGB).
    """
    _check_date(d, "d")
    _check_state(state)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("n must be an int")
    step = timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    current = d
    while remaining:
        current += step
        if is_working_day(current, state):
            remaining -= 1
    return current


def add_months(d: date, months: int) -> date:
    """Add calendar months to ``d``, clipping to the month's last day (§188 Abs. 3 BGB).

    31 January + 1 month is 28 February (29 in leap years); 29 February + 12 months is 28 February.
    """
    total = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(total, 12)
    month = month0 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last))


def raw_period_end(event: date, period: str) -> date:
    """Last day of ``period`` after ``event`` per §§187 Abs. 1, 188 BGB, before any §193 shift.

    Days: the period starts the day after the event (§187 Abs. 1), so n days end on event + n
    (§188 Abs. 1). Weeks, months, years end on the day with the event day's name or number
    (§188 Abs. 2), clipped to the month's last day (§188 Abs. 3).

    Raises:
        InvalidPeriod: if the period is malformed or the end lies outside the supported calendar.
    """
    _check_date(event, "event")
    n, unit = parse_period(period)
    try:
        if unit == "D":
            return event + timedelta(days=n)
        if unit == "W":
            return event + timedelta(weeks=n)
        return add_months(event, n if unit == "M" else 12 * n)
    except (OverflowError, ValueError) as exc:  # beyond year 9999
        raise InvalidPeriod(f"period {period!r} after {event.isoformat()} ends outside the calendar") from exc


def _describe_non_working_day(d: date, state: str) -> str:
    """Explain in English why ``d`` is not a working day, naming the weekday and/or holiday."""
    name = _holidays(state, d.year).get(d)
    weekday = _WEEKDAYS[d.weekday()]
    if name and d.weekday() >= 5:
        return f"{d.isoformat()} is a {weekday} and a public holiday in {state} ({name})"
    if name:
        return f"{d.isoformat()} is a public holiday in {state} ({name}, a {weekday})"
    return f"{d.isoformat()} is a {weekday}"


def compute_deadline(event: date, period: str, state: str = "SN") -> DeadlineResult:
    """Compute the end of a deadline of ``period`` triggered by ``event`` in ``state``.

    Applies §187 Abs. 1, §188 Abs. 1-3 BGB for the raw end (see :func:`raw_period_end`) and then
    §193 BGB / §222 Abs. 2 ZPO / §31 Abs. 3 S. 1 VwVfG: an end on a Saturday, Sunday or public
    holiday of the state moves to the next working day, repeatedly (e.g. Good Friday to the Tuesday
    after Easter). The deadline ends at 24:00 local time of ``end`` (:func:`end_of_day`).

    Example: event 2026-03-28, "P14D", "SN": raw end Saturday 2026-04-11, end Monday 2026-04-13.

    Raises:
        InvalidPeriod: malformed or out-of-range period.
        InvalidState: unknown state code.
    """
    _check_date(event, "event")
    _check_state(state)
    raw = raw_period_end(event, period)
    end = raw
    skipped: list[str] = []
    while not is_working_day(end, state):
        skipped.append(_describe_non_working_day(end, state))
        end += timedelta(days=1)
    if not skipped:
        return DeadlineResult(event, period, state, raw, None, None)
    reason = (
        "; ".join(skipped)
        + f"; moved to the next working day {end.isoformat()} (§193 BGB, §222 Abs. 2 ZPO)"
    )
    return DeadlineResult(event, period, state, end, raw, reason)


def end_of_day(d: date, tz: str = "Europe/Berlin") -> datetime:
    """Return the aware UTC instant at which a deadline ending on day ``d`` expires.

    A deadline set as a date runs until the end of that day (§188 Abs. 1 BGB: "mit dem Ablauf des
    letzten Tages"), i.e. 24:00 local time, which is 00:00 of the next day in ``tz``. Local midnight
    always exists in Europe/Berlin because DST switches at 02:00/03:00.

    Raises:
        ValueError: if ``tz`` is not a known IANA time zone.
    """
    _check_date(d, "d")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    local_midnight = datetime.combine(d + timedelta(days=1), time(0, 0), tzinfo=zone)
    return local_midnight.astimezone(UTC)


def appeal_deadline(
    notified_on: date, state: str = "SN", with_remedies_notice: bool = True
) -> DeadlineResult:
    """Deadline for a remedy (Widerspruch or Klage) against a decision notified on ``notified_on``.

    One month from notification when the decision carries a correct Rechtsbehelfsbelehrung
    (§70 Abs. 1 VwGO for the Widerspruch, §74 Abs. 1 VwGO for the Klage); one year otherwise
    (§58 Abs. 2 VwGO). Both are computed like any other period (§57 Abs. 2 VwGO, §222 ZPO,
    §§187-193 BGB). ``notified_on`` is the day of Bekanntgabe/Zustellung; working out that day
    (e.g. the postal notification fiction of §41 Abs. 2 VwVfG) is the caller's job.
    """
    period = "P1M" if with_remedies_notice else "P1Y"
    result = compute_deadline(notified_on, period, state)
    uncertain = [
        # UNCERTAIN: DOMAIN.md - Widerspruch seems not to be generally abolished in Saxony, so a refusal
        # is expected to need a Widerspruch (1 month) first, then Klage (1 month). Not verified for
        # Dresden immigration cases; the remedies notice on the Bescheid decides which remedy applies.
        "Saxony: whether a Widerspruch (§§68-70 VwGO) or directly a Klage (§74 VwGO) is the remedy is not "
        "verified for Dresden immigration cases; follow the Rechtsbehelfsbelehrung on the Bescheid."
    ]
    if not with_remedies_notice:
        # UNCERTAIN: DOMAIN.md marks §58 Abs. 2 VwGO as [M]; the one-year period also does not apply
        # where filing was impossible through force majeure or a written notice said no remedy exists.
        uncertain.append(
            "§58 Abs. 2 VwGO: one-year period assumed because the remedies notice is missing or wrong; "
            "exceptions (force majeure, notice that no remedy exists) are not modelled."
        )
    return DeadlineResult(
        result.event, result.period, result.state, result.end, result.shifted_from, result.reason,
        tuple(uncertain),
    )
