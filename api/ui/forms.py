"""HTML forms to API bodies and back: the new-case form's fields, action forms, German error texts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from api.problems import Problem
from api.ui import labels

#: Form fields that are never part of a body.
CONTROL_FIELDS = frozenset({"csrf_token", "idempotency_key", "op", "checked"})

TRI = {"": "unbekannt", "ja": "ja", "nein": "nein"}


@dataclass(frozen=True)
class Field:
    """One input of the new-case form; `name` is the API path of the value (dots for nesting)."""

    name: str
    label: str
    kind: str = "text"  # text | date | int | float | select | tri | checkbox
    options: dict[str, str] = field(default_factory=dict)
    required: bool = False
    hint: str | None = None

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class Group:
    legend: str
    fields: tuple[Field, ...]


CASE_FORM: tuple[Group, ...] = (
    Group("Person", (
        Field("person.reference", "Aktenzeichen der Beratungsstelle", required=True,
              hint="Buchstaben, Ziffern und . _ / -, z. B. BS-2026-0142"),
        Field("person.given_name", "Vorname"),
        Field("person.family_name", "Familienname"),
        Field("person.birth_date", "Geburtsdatum", "date"),
        Field("person.nationality", "Staatsangehörigkeit", hint="ISO-Code, z. B. AFG"),
        Field("person.minor_children", "Minderjährige Kinder", "int"),
    )),
    Group("Aufenthalt", (
        Field("person.entry_date", "Beginn des ununterbrochenen Aufenthalts", "date"),
        Field("person.duldung_since", "Aktuelle Duldung seit", "date"),
        Field("person.duldung_valid_until", "Duldung gültig bis", "date"),
        Field("person.duldung_type", "Art der Duldung", "select", labels.DULDUNG_TYPES),
        Field("person.identity_clarified", "Identität geklärt", "tri"),
        Field("person.passport_status", "Pass", "select", labels.PASSPORT),
        Field("person.deception", "Täuschung über Identität oder Staatsangehörigkeit", "tri"),
        Field("person.departure_impossible", "Ausreise auf absehbare Zeit unmöglich", "tri"),
    )),
    Group("Integration", (
        Field("person.language_level", "Sprachniveau (zertifiziert)", "select", labels.LANGUAGE_LEVELS),
        Field("person.civic_test_passed", "Test „Leben in Deutschland“ bestanden", "tri"),
        Field("person.school.attending", "Besucht eine Schule", "tri"),
        Field("person.school.years_successful", "Erfolgreiche Schuljahre in Deutschland", "int"),
        Field("person.school.qualification", "Schul- oder Berufsabschluss in Deutschland"),
        Field("person.in_training", "In Ausbildung oder mit Ausbildungsvertrag", "tri"),
        Field("person.training_qualified", "Qualifizierte Ausbildung (mind. 2 Jahre)", "tri"),
        Field("person.german_qualification", "Berufs- oder Hochschulabschluss in Deutschland", "tri"),
        Field("person.qualified_work_years", "Jahre qualifizierter Beschäftigung", "float"),
    )),
    Group("Lebensunterhalt und Straffreiheit", (
        Field("person.employment.employed", "Beschäftigt", "tri"),
        Field("person.employment.hours_per_week", "Wochenstunden", "float"),
        Field("person.employment.since", "Beschäftigt seit", "date"),
        Field("person.livelihood_secured", "Lebensunterhalt gesichert", "select", labels.LIVELIHOOD),
        Field("person.criminal_record.convicted", "Verurteilt", "tri"),
        Field("person.criminal_record.day_fines", "Tagessätze", "int"),
    )),
    Group("Einwilligung und Weg", (
        Field("consent_to_share.given", "Einwilligung zur Weitergabe an die Ausländerbehörde liegt vor", "checkbox"),
        Field("consent_to_share.date", "Datum der Einwilligung", "date"),
        Field("pathway", "Bevorzugter Weg", "select", labels.PATHWAYS,
              hint="Leer lassen: der Weg wird beim Abschluss der Aufnahme gewählt"),
    )),
)
CASE_FIELDS: dict[str, Field] = {f.name: f for g in CASE_FORM for f in g.fields}


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        target = target.setdefault(p, {})
    target[last] = value


def case_body(form: FormData) -> dict[str, Any]:
    """The POST /cases body from the new-case form; empty inputs mean "not known" (None)."""
    body: dict[str, Any] = {"person": {}, "consent_to_share": {"given": False}}
    for f in CASE_FIELDS.values():
        raw = str(form.get(f.name) or "").strip()
        if f.kind == "checkbox":
            _set(body, f.name, bool(raw))
        elif f.kind == "tri":
            if raw in ("ja", "nein"):
                _set(body, f.name, raw == "ja")
        elif raw:
            _set(body, f.name, raw)
    return body


def form_values(form: FormData) -> dict[str, str]:
    """What the user typed, to fill the form again."""
    return {k: str(v) for k, v in form.items() if k not in CONTROL_FIELDS and isinstance(v, str)}


def action_body(form: FormData) -> dict[str, Any]:
    """An action body from its form: field names are body keys; empty inputs are left out."""
    body: dict[str, Any] = {}
    for key in form.keys():
        if key in CONTROL_FIELDS:
            continue
        if key == "documents":
            body[key] = [str(v) for v in form.getlist(key) if str(v).strip()]
            continue
        value = str(form.get(key) or "").strip()
        if value:
            body[key] = value
    return body


# ---- German error texts ---------------------------------------------------------------------------------

_PYDANTIC: dict[str, str] = {
    "missing": "Pflichtfeld",
    "string_too_short": "darf nicht leer sein",
    "string_too_long": "ist zu lang (höchstens {max_length} Zeichen)",
    "string_pattern_mismatch": "enthält unzulässige Zeichen",
    "date_parsing": "ist kein gültiges Datum",
    "date_from_datetime_parsing": "ist kein gültiges Datum",
    "date_from_datetime_inexact": "ist kein gültiges Datum",
    "date_type": "ist kein gültiges Datum",
    "datetime_parsing": "ist kein gültiger Zeitpunkt",
    "int_parsing": "muss eine ganze Zahl sein",
    "int_from_float": "muss eine ganze Zahl sein",
    "int_type": "muss eine ganze Zahl sein",
    "float_parsing": "muss eine Zahl sein",
    "float_type": "muss eine Zahl sein",
    "greater_than_equal": "muss mindestens {ge} sein",
    "less_than_equal": "darf höchstens {le} sein",
    "literal_error": "ungültige Auswahl",
    "enum": "ungültige Auswahl",
    "too_short": "bitte mindestens eine Angabe auswählen",
    "too_long": "zu viele Angaben",
    "bool_parsing": "bitte ja oder nein wählen",
    "extra_forbidden": "unbekanntes Feld",
    "timezone_aware": "Zeitpunkt mit Zeitzone angeben",
}

# The rules' profile check speaks English to programs; the UI says it in German.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^must be a date"), "ist kein gültiges Datum"),
    (re.compile(r"^unknown value"), "ungültige Auswahl"),
    (re.compile(r"^must not be negative"), "darf nicht negativ sein"),
    (re.compile(r"^must not exceed (\S+)"), "darf höchstens {0} sein"),
    (re.compile(r"^is before the birth date"), "liegt vor dem Geburtsdatum"),
    (re.compile(r"^is before the entry date"), "liegt vor dem Beginn des Aufenthalts"),
    (re.compile(r"^is before the start of the Duldung"), "liegt vor dem Beginn der Duldung"),
    (re.compile(r"^day fines recorded without a conviction"), "Tagessätze ohne Verurteilung angegeben"),
    (re.compile(r"^is in the future"), "liegt in der Zukunft"),
    (re.compile(r"^Field required"), "Pflichtfeld"),
)

# Flat profile names (rules) → form names (API paths).
_PROFILE_FIELDS = {
    "school_attending": "school.attending", "school_years_successful": "school.years_successful",
    "school_qualification": "school.qualification", "employed": "employment.employed",
    "employment_hours_per_week": "employment.hours_per_week", "employment_since": "employment.since",
    "convicted": "criminal_record.convicted", "day_fines": "criminal_record.day_fines",
}


def german(message: str, type_: str | None = None, ctx: dict[str, Any] | None = None) -> str:
    """A German error text for a pydantic error type or a rules message; German texts pass unchanged."""
    if type_ and type_ in _PYDANTIC:
        try:
            return _PYDANTIC[type_].format(**(ctx or {}))
        except (KeyError, IndexError):
            return _PYDANTIC[type_].split(" (")[0]
    for pattern, text in _RULES:
        m = pattern.match(message)
        if m:
            return text.format(*m.groups())
    return message


def form_field(path: str) -> str:
    """The form input a body path belongs to (`person.employment_since` → `person.employment.since`)."""
    if path.startswith("person."):
        rest = path.removeprefix("person.")
        return "person." + _PROFILE_FIELDS.get(rest, rest)
    return path


def validation_errors(exc: ValidationError, *, top_level_only: bool = False) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors():
        parts = [str(p) for p in e["loc"]]
        path = parts[0] if top_level_only and parts else ".".join(parts)
        out.setdefault(form_field(path), german(e.get("msg", ""), e.get("type"), e.get("ctx")))
    return out


def problem_errors(problem: Problem, *, top_level_only: bool = False) -> dict[str, str]:
    """Field → German message from a 422 Problem (`errors: [{field, message, type?}]`)."""
    out: dict[str, str] = {}
    for e in problem.extra.get("errors", []):
        path = str(e.get("field") or "")
        if top_level_only:
            path = path.split(".")[0]
        out.setdefault(form_field(path), german(str(e.get("message", "")), e.get("type")))
    return out
