"""Eligibility per Bleiberecht pathway, evaluated as of a given date with versioned rules.

Each pathway (§§25a, 25b, 104c, 60d, 60c, 16g, 19d, 25 Abs. 5 AufenthG) is checked against the rule
version in force on ``as_of``. The result is one of:

- ``met``: every condition the profile can express is fulfilled;
- ``not_yet``: only time is missing; ``eligible_from`` is the earliest date all of it has run;
- ``not_met``: a condition that time alone will not fix fails (age limit passed, cut-off date,
  expired regulation, deception, Duldung light, missing language level …);
- ``unknown``: a field the rule needs is not known (None); ``missing`` names it.

Counting periods: a stay or Duldung that began on day X counts that day (§187 Abs. 2 BGB), so a
period of n years is complete at the start of the day with X's number n years later (§188 Abs. 2
BGB); where that day does not exist, at the start of the next month (§188 Abs. 3 BGB). The same
holds for ages: a person turns 27 at the start of the 27th birthday (§187 Abs. 2 S. 2 BGB).

Not expressible with the profile and therefore not checked (the counselor must): the integration
prognosis, one break of up to 3 months in the Voraufenthalt (which does no harm), whether a
conviction was for an intentional offence or for an offence only foreigners can commit, schooling
of the children, BA consent, adequate housing, imminent removal measures.

The module is pure: no I/O, no clock, no project imports.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

__all__ = [
    "DULDUNG_TYPES",
    "LANGUAGE_LEVELS",
    "LIVELIHOOD_LEVELS",
    "PASSPORT_STATUSES",
    "PATHWAYS",
    "PATHWAY_LABELS",
    "RULE_VERSIONS",
    "STATUSES",
    "InvalidProfile",
    "PathwayResult",
    "Profile",
    "RuleVersion",
    "UnknownPathway",
    "anniversary",
    "best_pathway",
    "evaluate",
    "evaluate_pathway",
    "rule_version",
    "validate_profile",
]

PATHWAYS: tuple[str, ...] = ("25a", "25b", "104c", "60d", "60c", "16g", "19d", "25_5")

PATHWAY_LABELS: dict[str, str] = {
    "25a": "§ 25a AufenthG – gut integrierte Jugendliche und junge Volljährige",
    "25b": "§ 25b AufenthG – nachhaltige Integration",
    "104c": "§ 104c AufenthG – Chancen-Aufenthaltsrecht",
    "60d": "§ 60d AufenthG – Beschäftigungsduldung",
    "60c": "§ 60c AufenthG – Ausbildungsduldung",
    "16g": "§ 16g AufenthG – Aufenthaltserlaubnis zur Berufsausbildung für ausreisepflichtige Ausländer",
    "19d": "§ 19d AufenthG – Aufenthaltserlaubnis für qualifizierte Geduldete zum Zweck der Beschäftigung",
    "25_5": "§ 25 Abs. 5 AufenthG – Unmöglichkeit der Ausreise",
}

STATUSES: tuple[str, ...] = ("met", "not_yet", "not_met", "unknown")
DULDUNG_TYPES: tuple[str, ...] = ("regular", "light_60b", "procedural", "training_60c", "employment_60d")
LANGUAGE_LEVELS: tuple[str, ...] = ("none", "A1", "A2", "B1", "B2", "C1", "C2")
LIVELIHOOD_LEVELS: tuple[str, ...] = ("none", "partly", "largely", "fully")
PASSPORT_STATUSES: tuple[str, ...] = ("valid", "expired", "applied", "impossible", "none")

# Passport states that satisfy the passport duty or show the required efforts (§5 Abs. 1 Nr. 4,
# §5 Abs. 3 S. 2 AufenthG, §48 Abs. 3 AufenthG): a passport, a pending application, or proof that
# getting one is impossible or unreasonable.
_PASSPORT_OK = frozenset({"valid", "applied", "impossible"})

# Minor-offence threshold of §§104c, 60c, 60d, 19d AufenthG: fines of up to 50 daily rates in total
# are generally disregarded (up to 90 for offences only foreigners can commit).
_DAY_FINES_GENERAL = 50
_DAY_FINES_FOREIGNER_ONLY = 90


class UnknownPathway(ValueError):
    """The pathway code is not one of :data:`PATHWAYS`."""


class InvalidProfile(ValueError):
    """The profile is inconsistent or malformed; ``errors`` lists (field path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors: list[tuple[str, str]] = list(errors)
        summary = "; ".join(f"{path}: {msg}" for path, msg in self.errors) or "invalid profile"
        super().__init__(summary)


# --------------------------------------------------------------------------------------------------
# Profile


@dataclass(frozen=True)
class Profile:
    """What is known about a person for the eligibility check; None means "not known".

    Mirrors the person fields of the API (``school``, ``employment`` and ``criminal_record`` are
    flattened) plus optional fields for pathways the API person does not describe yet.
    """

    birth_date: date | None = None
    #: Start of the unbroken stay on a Gestattung, Duldung or permit (the Voraufenthalt counts from it).
    entry_date: date | None = None
    #: Start of the current unbroken Duldung.
    duldung_since: date | None = None
    duldung_valid_until: date | None = None
    #: "regular", "light_60b", "procedural", "training_60c" or "employment_60d".
    duldung_type: str | None = None
    minor_children: int | None = None
    #: Certified CEFR level: "none", "A1" … "C2".
    language_level: str | None = None
    school_attending: bool | None = None
    school_years_successful: int | None = None
    #: A recognised school or vocational qualification obtained in Germany; None = none / not known.
    school_qualification: str | None = None
    employed: bool | None = None
    employment_hours_per_week: float | None = None
    employment_since: date | None = None
    #: "none", "partly" (≤ 50 %), "largely" (> 50 %) or "fully".
    livelihood_secured: str | None = None
    identity_clarified: bool | None = None
    #: "valid", "expired", "applied", "impossible" (impossible or unreasonable) or "none".
    passport_status: str | None = None
    civic_test_passed: bool | None = None
    convicted: bool | None = None
    day_fines: int | None = None
    # Fields beyond the API person, for §§60c, 16g, 19d, 25 Abs. 5 and exclusion grounds.
    #: In (or with a contract for) vocational training (§60c, §16g).
    in_training: bool | None = None
    #: The training is a qualified one of at least two years (False: a helper training).
    training_qualified: bool | None = None
    #: Completed qualified vocational training or a degree in Germany (§19d Abs. 1 Nr. 1 a).
    german_qualification: bool | None = None
    #: Years of qualified employment in Germany (§19d Abs. 1 Nr. 1 c).
    qualified_work_years: float | None = None
    #: Deportation prevented or delayed by the person's own false statements or identity deception.
    deception: bool | None = None
    #: Departure legally or factually impossible for the foreseeable future (§25 Abs. 5).
    departure_impossible: bool | None = None
    #: Declared commitment to the free democratic basic order; None: to be signed with the application.
    fdgo_declared: bool | None = None
    #: Date the application was submitted (decides the §25a age limit and the §104c transition).
    submitted_on: date | None = None

    @classmethod
    def from_person(cls, d: Mapping[str, Any]) -> Profile:
        """Build a profile from the API's person JSON (nested school/employment/criminal_record).

        Dates may be ``date`` objects or ``YYYY-MM-DD`` strings. Unrelated keys (names, reference,
        nationality) are ignored. Only types are checked here; call :func:`validate_profile` for the
        consistency checks.

        Raises:
            InvalidProfile: with all type errors found (paths like "person.school.years_successful").
        """
        if not isinstance(d, Mapping):
            raise InvalidProfile([("person", "must be an object")])
        errors: list[tuple[str, str]] = []
        values: dict[str, Any] = {}
        for field_name, path in _FIELD_PATHS.items():
            raw = _lookup(d, path, errors)
            if raw is None:
                continue
            kind = _FIELD_KINDS[field_name]
            try:
                values[field_name] = _coerce(raw, kind)
            except (TypeError, ValueError) as exc:
                errors.append((path, str(exc)))
        if errors:
            raise InvalidProfile(errors)
        return cls(**values)


# Field name → API path, used for error messages and for reading the nested JSON.
_FIELD_PATHS: dict[str, str] = {
    "birth_date": "person.birth_date",
    "entry_date": "person.entry_date",
    "duldung_since": "person.duldung_since",
    "duldung_valid_until": "person.duldung_valid_until",
    "duldung_type": "person.duldung_type",
    "minor_children": "person.minor_children",
    "language_level": "person.language_level",
    "school_attending": "person.school.attending",
    "school_years_successful": "person.school.years_successful",
    "school_qualification": "person.school.qualification",
    "employed": "person.employment.employed",
    "employment_hours_per_week": "person.employment.hours_per_week",
    "employment_since": "person.employment.since",
    "livelihood_secured": "person.livelihood_secured",
    "identity_clarified": "person.identity_clarified",
    "passport_status": "person.passport_status",
    "civic_test_passed": "person.civic_test_passed",
    "convicted": "person.criminal_record.convicted",
    "day_fines": "person.criminal_record.day_fines",
    "in_training": "person.in_training",
    "training_qualified": "person.training_qualified",
    "german_qualification": "person.german_qualification",
    "qualified_work_years": "person.qualified_work_years",
    "deception": "person.deception",
    "departure_impossible": "person.departure_impossible",
    "fdgo_declared": "person.fdgo_declared",
    "submitted_on": "person.submitted_on",
}

_FIELD_KINDS: dict[str, str] = {
    "birth_date": "date", "entry_date": "date", "duldung_since": "date", "duldung_valid_until": "date",
    "employment_since": "date", "submitted_on": "date",
    "duldung_type": "str", "language_level": "str", "livelihood_secured": "str", "passport_status": "str",
    "school_qualification": "str",
    "minor_children": "int", "school_years_successful": "int", "day_fines": "int",
    "employment_hours_per_week": "float", "qualified_work_years": "float",
    "school_attending": "bool", "employed": "bool", "identity_clarified": "bool", "civic_test_passed": "bool",
    "convicted": "bool", "in_training": "bool", "training_qualified": "bool", "german_qualification": "bool",
    "deception": "bool", "departure_impossible": "bool", "fdgo_declared": "bool",
}

_FIELD_LABELS: dict[str, str] = {
    "birth_date": "Geburtsdatum",
    "entry_date": "Einreisedatum (Beginn des ununterbrochenen Aufenthalts)",
    "duldung_since": "Beginn der aktuellen Duldung",
    "duldung_type": "Art der Duldung",
    "minor_children": "Zahl der minderjährigen Kinder",
    "language_level": "Deutschniveau",
    "school_years_successful": "Jahre erfolgreichen Schulbesuchs",
    "employed": "Beschäftigung",
    "employment_hours_per_week": "Wochenarbeitszeit",
    "employment_since": "Beginn der Beschäftigung",
    "livelihood_secured": "Lebensunterhaltssicherung",
    "identity_clarified": "Identitätsklärung",
    "passport_status": "Passstatus",
    "civic_test_passed": "Test „Leben in Deutschland“",
    "convicted": "Verurteilungen",
    "day_fines": "Zahl der Tagessätze",
    "in_training": "Berufsausbildung",
    "german_qualification": "Berufs- oder Hochschulabschluss in Deutschland",
    "qualified_work_years": "Jahre qualifizierter Beschäftigung",
    "departure_impossible": "Unmöglichkeit der Ausreise",
}

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _lookup(d: Mapping[str, Any], path: str, errors: list[tuple[str, str]]) -> Any:
    """Read ``path`` ("person.school.attending") from the person mapping; None when absent."""
    current: Any = d
    parts = path.split(".")[1:]
    for depth, part in enumerate(parts):
        if current is None:
            return None
        if not isinstance(current, Mapping):
            parent = ".".join(["person", *parts[:depth]])
            if (parent, "must be an object") not in errors:
                errors.append((parent, "must be an object"))
            return None
        current = current.get(part)
    return current


def _coerce(raw: Any, kind: str) -> Any:
    """Convert a JSON value to the field's Python type, or raise TypeError/ValueError."""
    if kind == "date":
        if isinstance(raw, datetime):
            raise TypeError("must be a date (YYYY-MM-DD), not a timestamp")
        if isinstance(raw, date):
            return raw
        if isinstance(raw, str) and _ISO_DATE.fullmatch(raw):
            return date.fromisoformat(raw)  # ValueError for e.g. 2026-02-30
        raise ValueError("must be a date in the form YYYY-MM-DD")
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        raise TypeError("must be true or false")
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise TypeError("must be a whole number")
        return raw
    if kind == "float":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise TypeError("must be a number")
        return float(raw)
    if not isinstance(raw, str):
        raise TypeError("must be a string")
    return raw


def validate_profile(profile: Profile, as_of: date | None = None) -> list[tuple[str, str]]:
    """Return (field path, message) for every inconsistency in ``profile``; empty when fine.

    Checks types, enum values, negative or implausible numbers (more than 80 hours a week), date
    order (birth ≤ entry ≤ Duldung start, Duldung start ≤ Duldung end, birth ≤ employment start) and,
    when ``as_of`` is given, that past events (birth, entry, Duldung start, employment start) are not
    after ``as_of``. Without ``as_of`` the future checks are skipped, since the rules read no clock.
    """
    errors: list[tuple[str, str]] = []
    p = profile

    def err(field_name: str, message: str) -> None:
        errors.append((_FIELD_PATHS[field_name], message))

    for f in fields(Profile):
        value = getattr(p, f.name)
        if value is None:
            continue
        kind = _FIELD_KINDS[f.name]
        if kind == "date":
            # date objects only: an ISO string would pass _coerce, but the rules compare dates
            if isinstance(value, datetime) or not isinstance(value, date):
                err(f.name, "must be a date")
            continue
        try:
            _coerce(value, kind)
        except (TypeError, ValueError) as exc:
            err(f.name, str(exc))
    if errors:
        return errors  # further checks would compare values of the wrong type

    enums = {
        "duldung_type": DULDUNG_TYPES,
        "language_level": LANGUAGE_LEVELS,
        "livelihood_secured": LIVELIHOOD_LEVELS,
        "passport_status": PASSPORT_STATUSES,
    }
    for name, allowed in enums.items():
        value = getattr(p, name)
        if value is not None and value not in allowed:
            err(name, f"unknown value {value!r}; allowed: {', '.join(allowed)}")

    limits: dict[str, float] = {
        "minor_children": 30,
        "school_years_successful": 20,
        "day_fines": 10_000,
        "employment_hours_per_week": 80,
        "qualified_work_years": 60,
    }
    for name, upper in limits.items():
        value = getattr(p, name)
        if value is None:
            continue
        if value < 0:
            err(name, "must not be negative")
        elif value > upper:
            err(name, f"must not exceed {upper:g}")

    if p.birth_date and p.entry_date and p.entry_date < p.birth_date:
        err("entry_date", "is before the birth date")
    if p.entry_date and p.duldung_since and p.duldung_since < p.entry_date:
        # entry_date starts the unbroken stay that includes the Duldung, so the Duldung cannot be older
        err("duldung_since", "is before the entry date")
    if p.birth_date and p.duldung_since and p.duldung_since < p.birth_date:
        err("duldung_since", "is before the birth date")
    if p.duldung_since and p.duldung_valid_until and p.duldung_valid_until < p.duldung_since:
        err("duldung_valid_until", "is before the start of the Duldung")
    if p.birth_date and p.employment_since and p.employment_since < p.birth_date:
        err("employment_since", "is before the birth date")
    if p.birth_date and p.submitted_on and p.submitted_on < p.birth_date:
        err("submitted_on", "is before the birth date")
    if p.convicted is False and p.day_fines:
        err("day_fines", "day fines recorded without a conviction")

    if as_of is not None:
        for name in ("birth_date", "entry_date", "duldung_since", "employment_since"):
            value = getattr(p, name)
            if value is not None and value > as_of:
                err(name, f"is in the future (after {as_of.isoformat()})")
    return errors


# --------------------------------------------------------------------------------------------------
# Versioned rules


@dataclass(frozen=True)
class RuleVersion:
    """One version of a pathway's rule, in force from ``valid_from`` to ``valid_until`` (inclusive).

    ``expired`` marks the state after a regulation ran out (new applications fail). The numeric
    parameters are only those that changed between versions; None where the version has none.
    """

    pathway: str
    valid_from: date
    valid_until: date | None
    law: str
    expired: bool = False
    residence_years: int | None = None
    residence_years_with_child: int | None = None
    school_years: int | None = None
    age_limit: int | None = None
    duldung_months: int | None = None
    employment_months: int | None = None
    min_weekly_hours: float | None = None
    entry_by: date | None = None


_BLEIBERECHT_2015 = "Gesetz zur Neubestimmung des Bleiberechts und der Aufenthaltsbeendigung (27.07.2015)"
_CHANCEN_2022 = "Gesetz zur Einführung eines Chancen-Aufenthaltsrechts (21.12.2022)"
_DUBAB_2019 = "Gesetz über Duldung bei Ausbildung und Beschäftigung (08.07.2019)"
_FEG_2019 = "Fachkräfteeinwanderungsgesetz (15.08.2019)"
_FEG_2023 = "Gesetz zur Weiterentwicklung der Fachkräfteeinwanderung (16.08.2023)"
_RUEVG_2024 = "Rückführungsverbesserungsgesetz (21.02.2024)"

RULE_VERSIONS: dict[str, tuple[RuleVersion, ...]] = {
    "25a": (
        RuleVersion("25a", date(2015, 8, 1), date(2022, 12, 30), _BLEIBERECHT_2015,
                    residence_years=4, school_years=4, age_limit=21),
        RuleVersion("25a", date(2022, 12, 31), None, _CHANCEN_2022,
                    residence_years=3, school_years=3, age_limit=27, duldung_months=12),
    ),
    "25b": (
        RuleVersion("25b", date(2015, 8, 1), date(2022, 12, 30), _BLEIBERECHT_2015,
                    residence_years=8, residence_years_with_child=6),
        RuleVersion("25b", date(2022, 12, 31), None, _CHANCEN_2022,
                    residence_years=6, residence_years_with_child=4),
    ),
    "104c": (
        RuleVersion("104c", date(2022, 12, 31), date(2025, 12, 31), _CHANCEN_2022,
                    residence_years=5, entry_by=date(2017, 10, 31)),
        RuleVersion("104c", date(2026, 1, 1), None, _CHANCEN_2022, expired=True),
    ),
    "60d": (
        # UNCERTAIN: the 2019 version of §60d was limited in time (applications until 31.12.2023); whether
        # there was a gap until the Rückführungsverbesserungsgesetz (27.02.2024) is not modelled here.
        RuleVersion("60d", date(2020, 1, 1), date(2024, 2, 26), _DUBAB_2019,
                    duldung_months=12, employment_months=18, min_weekly_hours=35,
                    entry_by=date(2018, 8, 1)),
        RuleVersion("60d", date(2024, 2, 27), None, _RUEVG_2024,
                    duldung_months=12, employment_months=12, min_weekly_hours=20,
                    entry_by=date(2022, 12, 31)),
    ),
    "60c": (
        RuleVersion("60c", date(2020, 1, 1), None, _DUBAB_2019, duldung_months=3),
    ),
    "16g": (
        RuleVersion("16g", date(2024, 3, 1), None, _FEG_2023, duldung_months=3),
    ),
    "19d": (
        RuleVersion("19d", date(2020, 3, 1), None, _FEG_2019),
    ),
    "25_5": (
        RuleVersion("25_5", date(2005, 1, 1), None, "Zuwanderungsgesetz (30.07.2004)", duldung_months=18),
    ),
}

# Pathways that did not exist before their first version: earlier dates give "not yet in force".
# For the others an older, different regulation existed that is not modelled here.
_INTRODUCED = frozenset({"104c", "60d", "16g"})


def rule_version(pathway: str, as_of: date) -> RuleVersion | None:
    """The rule version of ``pathway`` in force on ``as_of``, or None before the first version."""
    if pathway not in RULE_VERSIONS:
        raise UnknownPathway(f"unknown pathway {pathway!r}; known: {', '.join(PATHWAYS)}")
    for version in RULE_VERSIONS[pathway]:
        if version.valid_from <= as_of and (version.valid_until is None or as_of <= version.valid_until):
            return version
    return None


# --------------------------------------------------------------------------------------------------
# Results and date helpers


@dataclass(frozen=True)
class PathwayResult:
    """Eligibility for one pathway as of a date.

    ``missing`` holds plain German sentences (what is missing or until when); ``rules_as_of`` is the
    date from which the applied rule version is in force; ``uncertain`` lists unclear legal points
    that influenced the result and need a human check.
    """

    pathway: str
    status: str  # "met" | "not_yet" | "not_met" | "unknown"
    eligible_from: date | None
    missing: tuple[str, ...]
    rules_as_of: date
    uncertain: tuple[str, ...] = ()


def anniversary(start: date, years: int = 0, months: int = 0) -> date:
    """First day on which a period of ``years`` + ``months`` that began on ``start`` is complete.

    The start day counts (§187 Abs. 2 BGB), so the period ends at the end of the day before the day
    with the same number (§188 Abs. 2 BGB) and is complete from that day on. Where the target month
    lacks that day (29 Feb, 31st), the period ends on the month's last day (§188 Abs. 3 BGB) and is
    complete from the first of the next month. Used for ages (§187 Abs. 2 S. 2 BGB) as well.
    """
    total = start.year * 12 + (start.month - 1) + 12 * years + months
    year, month0 = divmod(total, 12)
    month = month0 + 1
    if start.day <= calendar.monthrange(year, month)[1]:
        return date(year, month, start.day)
    # the day does not exist: complete from the 1st of the following month
    return date(year + month // 12, month % 12 + 1, 1)


def _fmt(d: date) -> str:
    """German date format used in the ``missing`` texts."""
    return d.strftime("%d.%m.%Y")


_LEVEL_RANK = {level: rank for rank, level in enumerate(LANGUAGE_LEVELS)}


class _Check:
    """Collects the outcome of the single conditions of one pathway and combines them."""

    def __init__(self, pathway: str, profile: Profile, as_of: date, version: RuleVersion) -> None:
        self.pathway = pathway
        self.p = profile
        self.as_of = as_of
        self.version = version
        self.failures: list[str] = []
        self.unknown: list[str] = []
        self.waits: list[tuple[date, str]] = []
        self.cutoffs: list[tuple[date, str, str | None]] = []
        self.uncertain: list[str] = []

    def known(self, *names: str) -> bool:
        """True if all named fields are known; otherwise record each unknown one."""
        ok = True
        for name in names:
            if getattr(self.p, name) is None:
                ok = False
                text = f"Angabe fehlt: {_FIELD_LABELS.get(name, name)} ({_FIELD_PATHS[name]})"
                if text not in self.unknown:
                    self.unknown.append(text)
        return ok

    def need_date(self, name: str) -> date | None:
        """The date field ``name``; recorded as unknown when None."""
        value: date | None = getattr(self.p, name)
        self.known(name)
        return value

    def need_number(self, name: str) -> float | None:
        """The numeric field ``name``; recorded as unknown when None."""
        value: float | None = getattr(self.p, name)
        self.known(name)
        return value

    def need_str(self, name: str) -> str | None:
        """The text/enum field ``name``; recorded as unknown when None."""
        value: str | None = getattr(self.p, name)
        self.known(name)
        return value

    def fail(self, text: str) -> None:
        """A condition that time alone will not fix is not met."""
        self.failures.append(text)

    def wait(self, when: date, text: str) -> None:
        """A condition is met from ``when`` on; only recorded if that is after as_of."""
        if when > self.as_of:
            self.waits.append((when, text))

    def cutoff(self, last_day: date, text: str, note: str | None = None) -> None:
        """Everything must be met by ``last_day``; a later eligible date means not_met (+ ``note``)."""
        self.cutoffs.append((last_day, text, note))

    def note(self, text: str) -> None:
        """Record an uncertain legal point that influenced the result."""
        if text not in self.uncertain:
            self.uncertain.append(text)

    def result(self) -> PathwayResult:
        """Combine: not_met beats unknown beats not_yet beats met."""
        waits = sorted(self.waits)
        wait_texts = [text for _, text in waits]
        eligible = waits[-1][0] if waits else None
        failures = list(self.failures)
        for last_day, text, note in self.cutoffs:
            if eligible is not None and eligible > last_day:
                failures.append(text)
                if note:
                    self.note(note)
        if failures:
            status, eligible, missing = "not_met", None, failures + self.unknown + wait_texts
        elif self.unknown:
            status, eligible, missing = "unknown", None, self.unknown + wait_texts
        elif waits:
            status, missing = "not_yet", wait_texts
        else:
            status, missing = "met", []
        return PathwayResult(
            pathway=self.pathway,
            status=status,
            eligible_from=eligible,
            missing=tuple(missing),
            rules_as_of=self.version.valid_from,
            uncertain=tuple(self.uncertain),
        )


# --------------------------------------------------------------------------------------------------
# Shared conditions


def _application_date(c: _Check) -> date | None:
    """The submission date if the application was already made by as_of, else None."""
    submitted = c.p.submitted_on
    return submitted if submitted is not None and submitted <= c.as_of else None


def _not_duldung_light(c: _Check, consequence: str) -> None:
    """§60b Abs. 5 AufenthG: time on a "Duldung light" does not count and it bars employment."""
    if c.known("duldung_type") and c.p.duldung_type == "light_60b":
        c.fail(f"Duldung für Personen mit ungeklärter Identität (§ 60b AufenthG): {consequence}")


def _language(c: _Check, minimum: str, citation: str) -> None:
    """Certified German at least at ``minimum`` (CEFR)."""
    level = c.need_str("language_level")
    if level is not None and _LEVEL_RANK[level] < _LEVEL_RANK[minimum]:
        c.fail(f"Deutschkenntnisse auf Niveau {minimum} nachweisen (bisher {level}; {citation})")


def _no_deception(c: _Check, citation: str) -> None:
    """Exclusion for own false statements or identity deception; None counts as "not recorded"."""
    # Exclusion grounds are for the authority to establish; an unrecorded ground does not make the
    # pathway unknown, otherwise no API profile (which has no such field) could ever be "met".
    if c.p.deception:
        c.fail(f"Abschiebung durch eigene falsche Angaben oder Identitätstäuschung verhindert ({citation})")


def _fdgo(c: _Check, citation: str) -> None:
    """The FDGO commitment is a declaration signed with the application; only a refusal fails."""
    if c.p.fdgo_declared is False:
        c.fail(f"Bekenntnis zur freiheitlichen demokratischen Grundordnung fehlt ({citation})")


def _passport_or_efforts(c: _Check, citation: str) -> None:
    """Passport duty (§3, §5 Abs. 1 Nr. 4 AufenthG): a passport or proof of the efforts to get one."""
    if c.known("passport_status") and c.p.passport_status not in _PASSPORT_OK:
        c.fail(f"Pass oder Nachweis der Passbemühungen ({citation})")


def _identity(c: _Check, citation: str, fail_text: str | None = None) -> None:
    """Identity clarified (§5 Abs. 1 Nr. 1a AufenthG), following the Stufenmodell.

    Where identity is not clarified but a passport is applied for or impossible to get, the
    condition may count as met if all reasonable steps were taken; the profile cannot show that.
    """
    if not c.known("identity_clarified") or c.p.identity_clarified:
        return
    if not c.known("passport_status"):
        return
    if c.p.passport_status in ("applied", "impossible"):
        # UNCERTAIN: whether "all reasonable steps" were taken is a case-by-case judgment of the ABH.
        c.note(
            "Identität ungeklärt: genügt nur, wenn alle zumutbaren Schritte zur Identitätsklärung "
            f"unternommen wurden (Stufenmodell; {citation})"
        )
        return
    c.fail(fail_text or (
        "Identität klären (Stufenmodell: Pass, andere amtliche Dokumente, nichtamtliche Dokumente, "
        f"eigene Angaben; {citation})"
    ))


def _minor_offence_threshold(c: _Check, citation: str) -> None:
    """Minor-offence threshold: fines up to 50 daily rates in total are disregarded.

    §§104c, 60c, 60d, 19d AufenthG: convictions for intentional offences exclude, except fines of
    up to 50 daily rates in total, or up to 90 for offences only foreigners can commit.
    """
    if not c.known("convicted") or not c.p.convicted:
        return
    fines = c.need_number("day_fines")
    if fines is None:
        return
    if fines == 0:
        # UNCERTAIN: a conviction without daily rates (prison, juvenile sentence) cannot be graded here.
        c.fail(f"Verurteilung ohne Geldstrafe erfasst: schließt in der Regel aus ({citation})")
        c.note("Verurteilung ohne Tagessätze erfasst: Art der Strafe und Vorsatz prüfen")
    elif fines > _DAY_FINES_GENERAL:
        c.fail(f"Verurteilung zu {fines:g} Tagessätzen überschreitet die Grenze von 50 Tagessätzen "
               f"({citation})")
        if fines <= _DAY_FINES_FOREIGNER_ONLY:
            # UNCERTAIN: the profile cannot say whether the offences were ones only foreigners can commit
            # (AufenthG/AsylG), for which up to 90 daily rates are disregarded.
            c.note(
                "Bis zu 90 Tagessätze bleiben außer Betracht, wenn die Straftaten nur von Ausländern "
                "begangen werden können (AufenthG/AsylG); Art der Straftaten prüfen"
            )


def _expulsion_interest_note(c: _Check, citation: str) -> None:
    """§§25a/25b: a conviction may ground an expulsion interest (§54 AufenthG); flag it only."""
    if c.p.convicted:
        # UNCERTAIN: DOMAIN.md [M] - a serious expulsion interest (§54 Abs. 1 / Abs. 2 Nr. 1-2) bars
        # §25b; whether a given conviction reaches it needs the judgment, not expressible here.
        c.note(f"Verurteilung erfasst: Ausweisungsinteresse nach § 54 AufenthG im Einzelfall prüfen "
               f"({citation})")


# --------------------------------------------------------------------------------------------------
# Pathways


def _check_25a(c: _Check) -> None:
    """§25a AufenthG – well-integrated young people (versions 2015 and 31.12.2022)."""
    p, v = c.p, c.version
    assert v.age_limit is not None and v.residence_years is not None and v.school_years is not None
    cite = "§ 25a Abs. 1 AufenthG"
    birth = c.need_date("birth_date")
    if birth is not None:
        # §25a Abs. 1 S. 1 Nr. 3: the application must be made before the age limit is completed.
        limit_day = anniversary(birth, years=v.age_limit)
        applied = _application_date(c)
        application_day = applied or c.as_of
        if application_day >= limit_day:
            c.fail(f"Antrag muss vor dem {v.age_limit}. Geburtstag ({_fmt(limit_day)}) gestellt werden "
                   f"({cite})")
        elif applied is None:
            last_day = limit_day - timedelta(days=1)
            # UNCERTAIN: conditions other than age are checked at the decision; an application made in
            # time could arguably wait for them. Treated as not_met, as a pending case needs them met.
            c.cutoff(
                last_day,
                f"Voraussetzungen erst nach dem {v.age_limit}. Geburtstag erfüllt; Antrag nur bis "
                f"{_fmt(last_day)} möglich ({cite})",
                note="Antrag vor dem Stichtag gestellt, Voraussetzungen erst danach erfüllt: ob die Behörde "
                "bis zur Entscheidung wartet, ist nicht geklärt",
            )
        # Minimum age 14 ("Jugendlicher"), checked at the decision date.
        fourteen = anniversary(birth, years=14)
        c.wait(fourteen, f"Mindestalter 14 erst am {_fmt(fourteen)} erreicht ({cite})")
    entry = c.need_date("entry_date")
    if entry is not None:
        # One break of up to 3 months does no harm, but the profile has no break history: entry_date
        # must be recorded as the start of the stay that such a short break did not interrupt.
        done = anniversary(entry, years=v.residence_years)
        c.wait(done, f"Voraufenthalt von {v.residence_years} Jahren erst am {_fmt(done)} erreicht")
    duldung_since = c.need_date("duldung_since")
    if v.duldung_months and duldung_since is not None:
        done = anniversary(duldung_since, months=v.duldung_months)
        c.wait(done, f"Duldung seit {v.duldung_months} Monaten erst am {_fmt(done)} ({cite})")
    _not_duldung_light(c, "Zeiten zählen nicht, § 25a ausgeschlossen (§ 60b Abs. 5 AufenthG)")
    # Schooling "in der Regel" 3 (before 31.12.2022: 4) years, or a recognised qualification.
    school_years = None if p.school_qualification else c.need_number("school_years_successful")
    if school_years is not None:
        if school_years < v.school_years:
            c.fail(
                f"Erst {school_years:g} von {v.school_years} Jahren erfolgreichen Schulbesuchs "
                f"in Deutschland und kein anerkannter Abschluss ({cite})"
            )
            # UNCERTAIN: "in der Regel" allows exceptions in atypical cases.
            c.note("Schulbesuch „in der Regel“: Abweichungen im Einzelfall möglich (§ 25a Abs. 1 AufenthG)")
    _passport_or_efforts(c, "§ 5 Abs. 1 Nr. 4 AufenthG")
    _identity(c, "§ 5 Abs. 1 Nr. 1a AufenthG")
    _no_deception(c, "Versagung zwingend, § 25a Abs. 1 AufenthG")
    _expulsion_interest_note(c, cite)


def _check_25b(c: _Check) -> None:
    """§25b AufenthG – sustainable integration (versions 2015 and 31.12.2022)."""
    p, v = c.p, c.version
    assert v.residence_years is not None and v.residence_years_with_child is not None
    entry = c.need_date("entry_date")
    if entry is not None:
        years = v.residence_years
        done = anniversary(entry, years=years)
        if done > c.as_of and p.minor_children:
            # §25b Abs. 1 S. 2 Nr. 1: shorter period when living with a minor child.
            years = v.residence_years_with_child
            done = anniversary(entry, years=years)
        # §25b Abs. 6: 30 months on a §60d Duldung replace the residence years (since 2020).
        if p.duldung_type == "employment_60d" and p.duldung_since and c.as_of >= date(2020, 1, 1):
            via_60d = anniversary(p.duldung_since, months=30)
            if via_60d < done:
                done = via_60d
                # UNCERTAIN: §25b Abs. 6 also requires the §60d conditions and oral German; approximated.
                c.note("§ 25b Abs. 6 AufenthG: 30 Monate Beschäftigungsduldung statt Voraufenthalt "
                       "angenommen")
        # The number of children only matters while the general period has not run.
        if done <= c.as_of or c.known("minor_children"):
            c.wait(done, f"Voraufenthalt von {years} Jahren erst am {_fmt(done)} erreicht")
    _not_duldung_light(c, "Zeiten zählen nicht, § 25b ausgeschlossen (§ 60b Abs. 5 AufenthG)")
    _language(c, "A2", "mündlich, § 25b Abs. 1 S. 2 Nr. 4 AufenthG")
    if c.known("civic_test_passed") and not p.civic_test_passed:
        c.fail("Grundkenntnisse der Rechts- und Gesellschaftsordnung nachweisen, z. B. Test "
               "„Leben in Deutschland“ (§ 25b Abs. 1 S. 2 Nr. 2 AufenthG)")
    if c.known("livelihood_secured") and p.livelihood_secured in ("none", "partly"):
        if p.in_training or p.school_attending:
            # UNCERTAIN: benefits are "in der Regel" harmless for pupils, students and trainees.
            c.note("Sozialleistungsbezug bei Schülern, Studierenden und Auszubildenden in der Regel "
                   "unschädlich (§ 25b Abs. 1 S. 3 AufenthG)")
        else:
            c.fail("Lebensunterhalt überwiegend (mehr als 50 %) durch Erwerbstätigkeit sichern "
                   "(§ 25b Abs. 1 S. 2 Nr. 3 AufenthG)")
            # UNCERTAIN: "regelmäßig" lets other integration achievements offset one shortfall; exceptions
            # for families with top-up benefits, single parents, carers, illness, disability, age.
            c.note("Ausnahmen prüfen: positive Prognose, Familien mit ergänzendem Leistungsbezug, "
                   "Alleinerziehende, Pflegende (§ 25b Abs. 1 S. 3), Krankheit, Behinderung, Alter "
                   "(§ 25b Abs. 3); „regelmäßig“ erlaubt Ausgleich durch andere Integrationsleistungen")
    _passport_or_efforts(c, "Mitwirkung, § 25b Abs. 2 Nr. 1 AufenthG")
    _identity(c, "§ 5 Abs. 1 Nr. 1a AufenthG")
    _no_deception(c, "§ 25b Abs. 2 Nr. 1 AufenthG")
    _fdgo(c, "§ 25b Abs. 1 S. 2 Nr. 2 AufenthG")
    _expulsion_interest_note(c, "§ 25b Abs. 2 Nr. 2 AufenthG")


def _check_104c(c: _Check) -> None:
    """§104c AufenthG – Chancen-Aufenthaltsrecht (31.12.2022 – 31.12.2025)."""
    v = c.version
    cite = "§ 104c Abs. 1 AufenthG"
    if v.expired:
        applied = _application_date(c)
        if applied is None or applied > date(2025, 12, 31):
            c.fail("§ 104c AufenthG ist am 31.12.2025 ausgelaufen; Neuanträge ab 01.01.2026 nicht mehr "
                   "möglich")
            return
        # UNCERTAIN: DOMAIN.md - applications filed by 31.12.2025 but undecided: legally unclear.
        c.note("Antrag vor dem 01.01.2026 gestellt, aber nach Auslaufen des § 104c noch nicht entschieden: "
               "Rechtslage unklar")
        c.version = v = RULE_VERSIONS["104c"][0]
    assert v.entry_by is not None
    entry = c.need_date("entry_date")
    if entry is not None:
        if entry > v.entry_by:
            c.fail(f"Am 31.10.2022 keine 5 Jahre Voraufenthalt (Einreise nach dem {_fmt(v.entry_by)}; "
                   f"{cite})")
            if entry == v.entry_by + timedelta(days=1):
                # UNCERTAIN: whether an entry on 01.11.2017 completes 5 years "am 31.10.2022" depends on
                # counting the entry day (§187 Abs. 2 BGB would say yes at the end of 31.10.2022).
                c.note("Einreise am 01.11.2017: Grenzfall bei der Berechnung der 5 Jahre bis 31.10.2022")
    # Must be tolerated when applying; any Duldung counts, including §60b (DOMAIN.md [V]).
    c.known("duldung_type")
    _minor_offence_threshold(c, cite)
    _no_deception(c, "wiederholte vorsätzliche Täuschung, " + cite)
    _fdgo(c, cite)


def _check_60d(c: _Check) -> None:
    """§60d AufenthG – Beschäftigungsduldung (versions 2020 and 27.02.2024)."""
    p, v = c.p, c.version
    assert v.entry_by is not None and v.employment_months and v.min_weekly_hours and v.duldung_months
    cite = "§ 60d Abs. 1 AufenthG"
    entry = c.need_date("entry_date")
    if entry is not None and entry > v.entry_by:
        c.fail(f"Einreise nach dem {_fmt(v.entry_by)} ({cite})")
    _not_duldung_light(c, "Erwerbstätigkeit ausgeschlossen (§ 60b Abs. 5 AufenthG)")
    duldung_since = c.need_date("duldung_since")
    if duldung_since is not None:
        done = anniversary(duldung_since, months=v.duldung_months)
        c.wait(done, f"Duldung seit {v.duldung_months} Monaten erst am {_fmt(done)} ({cite})")
    hours = f"{v.min_weekly_hours:g}"
    if c.known("employed"):
        if not p.employed:
            c.fail(f"Sozialversicherungspflichtige Beschäftigung mit mindestens {hours} Stunden pro Woche "
                   f"seit {v.employment_months} Monaten nötig ({cite})")
        else:
            weekly = c.need_number("employment_hours_per_week")
            since = c.need_date("employment_since")
            if weekly is not None and weekly < v.min_weekly_hours:
                c.fail(f"Wochenarbeitszeit {weekly:g} Stunden, nötig sind mindestens {hours} ({cite})")
                if v.min_weekly_hours > 20 and weekly >= 20:
                    # UNCERTAIN: before 27.02.2024 single parents needed only 20 hours; not expressible.
                    c.note("Alleinerziehende: 20 Wochenstunden genügten (§ 60d Abs. 1 Nr. 3 AufenthG a. F.)")
            if since is not None:
                done = anniversary(since, months=v.employment_months)
                c.wait(done, f"Beschäftigung seit {v.employment_months} Monaten erst am {_fmt(done)} "
                             f"({cite})")
    if c.known("livelihood_secured") and p.livelihood_secured != "fully":
        c.fail(f"Lebensunterhalt seit 12 Monaten vollständig durch die Beschäftigung sichern ({cite})")
    _language(c, "A2", "mündlich, " + cite)
    identity_text = None
    if v.valid_from >= date(2024, 2, 27) and p.entry_date and date(2017, 1, 1) <= p.entry_date:
        # Entries 2017-2022: identity must be clarified by 31.12.2024 (deadline met if all reasonable
        # steps were taken); otherwise by the application.
        identity_text = f"Identität bis 31.12.2024 klären bzw. alle zumutbaren Maßnahmen nachweisen ({cite})"
    _identity(c, cite, identity_text)
    _minor_offence_threshold(c, cite)
    _no_deception(c, cite)


def _check_training(c: _Check, cite: str) -> None:
    """Conditions shared by §60c and §16g AufenthG: training, 3 months Duldung, identity, threshold."""
    p, v = c.p, c.version
    assert v.duldung_months is not None
    if c.known("in_training"):
        if not p.in_training:
            c.fail(f"Qualifizierte Berufsausbildung (mind. 2 Jahre) oder Helferausbildung mit Zusage einer "
                   f"anschließenden qualifizierten Ausbildung nötig ({cite})")
        elif p.training_qualified is False:
            # UNCERTAIN: a helper training only counts with a confirmed follow-on qualified training place.
            c.note("Helferausbildung: nur mit Zusage für eine anschließende qualifizierte Ausbildung")
    _not_duldung_light(c, "Erwerbstätigkeit und Ausbildung ausgeschlossen (§ 60b Abs. 5 AufenthG)")
    duldung_since = c.need_date("duldung_since")
    if duldung_since is not None:
        done = anniversary(duldung_since, months=v.duldung_months)
        c.wait(done, f"Duldung seit {v.duldung_months} Monaten erst am {_fmt(done)} ({cite})")
    _identity(c, cite)
    if p.identity_clarified and p.entry_date and p.entry_date >= date(2017, 1, 1):
        # UNCERTAIN: identity deadlines by entry date (2017-2019: by 30.06.2020; from 2020: within 6 months
        # of entry); the profile records whether, not when, identity was clarified (§60c Abs. 2 Nr. 3,
        # Abs. 7).
        c.note("Identität musste fristgerecht geklärt werden (Einreise 2017–2019: bis 30.06.2020; ab 2020: "
               "binnen 6 Monaten); Zeitpunkt der Klärung prüfen")
    _minor_offence_threshold(c, cite)
    _no_deception(c, "Ausschluss nach § 60a Abs. 6 AufenthG")


def _check_60c(c: _Check) -> None:
    """§60c AufenthG – Ausbildungsduldung (since 01.01.2020)."""
    _check_training(c, "§ 60c Abs. 1, 2 AufenthG")


def _check_16g(c: _Check) -> None:
    """§16g AufenthG – residence permit for training (since 01.03.2024): §60c plus passport and livelihood."""
    p = c.p
    cite = "§ 16g AufenthG"
    _check_training(c, cite)
    if c.known("passport_status") and p.passport_status != "valid":
        c.fail(f"Gültiger Pass erforderlich (Passpflicht, § 5 Abs. 1 Nr. 4 AufenthG; {cite})")
        if p.passport_status == "impossible":
            # UNCERTAIN: exceptions to the passport duty for §16g are not settled.
            c.note("Pass unmöglich/unzumutbar: Ausnahme von der Passpflicht für § 16g im Einzelfall prüfen")
    if c.known("livelihood_secured"):
        if p.livelihood_secured in ("none", "partly"):
            c.fail(f"Lebensunterhalt in Höhe des BAföG-Bedarfs sichern ({cite})")
        elif p.livelihood_secured == "largely":
            # UNCERTAIN: "largely" (> 50 % of general needs) may or may not reach the BAföG need level.
            c.note("Lebensunterhalt überwiegend gesichert: Deckung des BAföG-Bedarfs prüfen (§ 16g AufenthG)")


def _check_19d(c: _Check) -> None:
    """§19d AufenthG – qualified tolerated persons (since 01.03.2020)."""
    p = c.p
    cite = "§ 19d Abs. 1 AufenthG"
    c.known("duldung_type")  # only tolerated persons qualify
    years = p.qualified_work_years
    if p.german_qualification:
        pass  # Nr. 1 a: qualified vocational training or degree completed in Germany
    elif years is not None and years >= 3:
        # Nr. 1 c: three years of qualified work and no benefits in the year before the application.
        if c.known("livelihood_secured") and p.livelihood_secured != "fully":
            c.fail(f"Im Jahr vor der Antragstellung keine Leistungen zum Lebensunterhalt (Nr. 1 c; {cite})")
    elif c.known("german_qualification", "qualified_work_years"):
        assert years is not None
        if not c.known("employed"):
            pass
        elif p.employed:
            # Time fixes it if the qualified employment goes on; a year counted as 365.25 days.
            done = c.as_of + timedelta(days=round((3 - years) * 365.25))
            c.wait(done, f"3 Jahre qualifizierte Beschäftigung voraussichtlich erst am {_fmt(done)} ({cite})")
            c.note("Datum geschätzt: setzt ununterbrochene qualifizierte Beschäftigung voraus "
                   "(§ 19d Abs. 1 Nr. 1 c)")
        else:
            c.fail(f"Berufs- oder Hochschulabschluss in Deutschland oder 3 Jahre qualifizierte "
                   f"Beschäftigung nötig ({cite})")
            c.note("Alternative nicht erfasst: anerkannter ausländischer Abschluss und 2 Jahre angemessene "
                   "Beschäftigung (§ 19d Abs. 1 Nr. 1 b)")
    _language(c, "B1", cite)
    _minor_offence_threshold(c, cite)
    _no_deception(c, "§ 19d Abs. 1 Nr. 4, 5 AufenthG")


def _check_25_5(c: _Check) -> None:
    """§25 Abs. 5 AufenthG – departure impossible; "soll" after 18 months of suspended deportation."""
    p, v = c.p, c.version
    assert v.duldung_months is not None
    if c.known("departure_impossible") and not p.departure_impossible:
        c.fail("Ausreise ist nicht aus rechtlichen oder tatsächlichen Gründen unmöglich "
               "(§ 25 Abs. 5 S. 1 AufenthG)")
    duldung_since = c.need_date("duldung_since")
    if duldung_since is not None:
        done = anniversary(duldung_since, months=v.duldung_months)
        c.wait(done, f"Abschiebung erst am {_fmt(done)} seit 18 Monaten ausgesetzt (Soll-Regel "
                     f"§ 25 Abs. 5 S. 2 AufenthG; vorher nur Ermessen)")
    _no_deception(c, "Ausreisehindernis selbst verschuldet, § 25 Abs. 5 S. 3, 4 AufenthG")
    if p.passport_status in ("expired", "none"):
        # UNCERTAIN: fault (§25 Abs. 5 S. 4) includes not meeting reasonable demands such as passport steps.
        c.note("Kein Pass und keine Passbemühungen erfasst: Verschulden prüfen (§ 25 Abs. 5 S. 4 AufenthG)")
    if p.duldung_type == "light_60b":
        # UNCERTAIN: §60b Abs. 5 S. 1 excludes §60b time from "Vorduldungszeiten"; a §60b Duldung also
        # presupposes own fault, which bars §25 Abs. 5 S. 3.
        c.note("Duldung light (§ 60b AufenthG): Zeiten zählen ggf. nicht, Verschulden naheliegend")


_CHECKS = {
    "25a": _check_25a,
    "25b": _check_25b,
    "104c": _check_104c,
    "60d": _check_60d,
    "60c": _check_60c,
    "16g": _check_16g,
    "19d": _check_19d,
    "25_5": _check_25_5,
}


def _runs_out(pathway: str, version: RuleVersion) -> bool:
    """Whether ``version`` is the last one in force, followed only by expiry (or nothing)."""
    versions = RULE_VERSIONS[pathway]
    later = versions[versions.index(version) + 1:]
    return all(v.expired for v in later)


def _evaluate_unchecked(pathway: str, profile: Profile, as_of: date) -> PathwayResult:
    """Evaluate one pathway for an already validated profile."""
    version = rule_version(pathway, as_of)
    if version is None:
        first = RULE_VERSIONS[pathway][0]
        if pathway in _INTRODUCED:
            text = f"{PATHWAY_LABELS[pathway].split(' – ')[0]} erst ab {_fmt(first.valid_from)} in Kraft"
            return PathwayResult(pathway, "not_met", None, (text,), first.valid_from)
        text = f"Rechtslage vor dem {_fmt(first.valid_from)} nicht abgebildet"
        return PathwayResult(pathway, "unknown", None, (text,), first.valid_from)
    check = _Check(pathway, profile, as_of, version)
    _CHECKS[pathway](check)
    # A regulation that runs out without successor caps every waiting date (§104c on 31.12.2025).
    # A version replaced by a newer one does not: the date is then an estimate under today's rule.
    until = check.version.valid_until
    if until is not None and _runs_out(pathway, check.version):
        check.cutoff(until, f"Regelung gilt nur bis {_fmt(until)}; Voraussetzungen erst danach erfüllt")
    return check.result()


def evaluate_pathway(pathway: str, profile: Profile, as_of: date) -> PathwayResult:
    """Evaluate one pathway for ``profile`` under the rule version in force on ``as_of``.

    Raises:
        UnknownPathway: if ``pathway`` is not in :data:`PATHWAYS`.
        InvalidProfile: if :func:`validate_profile` finds errors.
    """
    if pathway not in _CHECKS:
        raise UnknownPathway(f"unknown pathway {pathway!r}; known: {', '.join(PATHWAYS)}")
    errors = validate_profile(profile, as_of)
    if errors:
        raise InvalidProfile(errors)
    return _evaluate_unchecked(pathway, profile, as_of)


def evaluate(profile: Profile, as_of: date) -> list[PathwayResult]:
    """Evaluate every pathway, in the order of :data:`PATHWAYS`, as of ``as_of``.

    Raises:
        InvalidProfile: if :func:`validate_profile` finds errors.
    """
    if isinstance(as_of, datetime) or not isinstance(as_of, date):
        raise TypeError("as_of must be a datetime.date")
    errors = validate_profile(profile, as_of)
    if errors:
        raise InvalidProfile(errors)
    return [_evaluate_unchecked(pathway, profile, as_of) for pathway in PATHWAYS]


# Preference among pathways that are met: towards the most durable status. §25b and §25a lead to
# settlement; §19d and §16g are residence permits; §25 Abs. 5 starts short; §104c cannot be extended;
# §60d and §60c are only Duldungen.
_PREFERENCE: tuple[str, ...] = ("25b", "25a", "19d", "16g", "25_5", "104c", "60d", "60c")


def best_pathway(results: list[PathwayResult]) -> PathwayResult | None:
    """Pick the pathway to pursue: a met one by durability, else the not_yet one met soonest.

    Met results are ranked 25b, 25a, 19d, 16g, 25_5, 104c, 60d, 60c. Among not_yet results the
    earliest ``eligible_from`` wins (ties by the same ranking). None if neither exists.
    """
    def rank(result: PathwayResult) -> int:
        return _PREFERENCE.index(result.pathway) if result.pathway in _PREFERENCE else len(_PREFERENCE)

    met = [r for r in results if r.status == "met"]
    if met:
        return min(met, key=rank)
    waiting = [r for r in results if r.status == "not_yet" and r.eligible_from is not None]
    if waiting:
        return min(waiting, key=lambda r: (r.eligible_from, rank(r)))
    return None
