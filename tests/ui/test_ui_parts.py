"""The UI's pure parts: German error texts, form-to-body mapping, report series and SVG charts."""

from __future__ import annotations

from starlette.datastructures import FormData

from api.problems import invalid
from api.reports_service import MonthFigures, ReportSummary
from api.ui import charts, forms
from api.ui.pages import _report_series


def test_errors_are_german_and_land_on_the_form_field() -> None:
    problem = invalid([{"field": "person.employment_since", "message": "is before the birth date"},
                       {"field": "file_number", "message": "Field required", "type": "missing"},
                       {"field": "notified_on", "message": "Pflichtfeld bei Ablehnung"}])
    assert forms.problem_errors(problem) == {
        "person.employment.since": "liegt vor dem Geburtsdatum",
        "file_number": "Pflichtfeld",
        "notified_on": "Pflichtfeld bei Ablehnung",
    }
    assert forms.german("x", "string_too_long", {"max_length": 64}) == "ist zu lang (höchstens 64 Zeichen)"
    assert forms.german("must not exceed 80") == "darf höchstens 80 sein"


def test_case_form_builds_the_api_body_with_unknowns_left_out() -> None:
    form = FormData([("person.reference", "BS-1"), ("person.school.attending", "nein"),
                     ("person.identity_clarified", ""), ("person.employment.hours_per_week", "38"),
                     ("consent_to_share.given", "ja"), ("csrf_token", "t")])
    body = forms.case_body(form)
    assert body == {"person": {"reference": "BS-1", "school": {"attending": False},
                               "employment": {"hours_per_week": "38"}},
                    "consent_to_share": {"given": True}}
    action = FormData([("documents", "payslips"), ("documents", "photo"), ("due", ""), ("idempotency_key", "k")])
    assert forms.action_body(action) == {"documents": ["payslips", "photo"]}


def test_report_series_and_charts() -> None:
    summary = ReportSummary(
        date_from=None, date_to=None, open_by_stage={}, decided=4, granted=3, refused=1, grant_rate=0.75,
        median_days_in_stage={"intake": 3, "authority_review": 41.5}, by_pathway={},
        by_month=[MonthFigures(month="2026-09"),
                  MonthFigures(month="2026-10", granted=3, refused=1, decided=4, grant_rate=0.75)],
    )
    months, stages = _report_series(summary)
    assert [(m["label"], m["rate"]) for m in months] == [("09/26", None), ("10/26", 75.0)]
    assert {s["stage"]: s["days"] for s in stages}["authority_review"] == 41.5
    svg = charts.columns("Quote", [(m["label"], m["rate"], "x") for m in months], max_value=100)
    assert svg.startswith("<svg") and svg.count("<rect") == 1 and 'aria-label="Quote"' in svg
    svg = charts.rows("Tage", [(s["label"], s["days"], "") for s in stages], max_value=41.5)
    assert svg.count("<rect") == 5 and "Prüfung ABH" in svg
    assert _report_series(None) == ([], [dict(s, days=None) for s in stages])  # no figures (bad dates)
