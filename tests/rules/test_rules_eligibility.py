"""Tests of the eligibility engine per pathway (AufenthG), evaluated as of a date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from rules.eligibility import (
    PATHWAY_LABELS,
    PATHWAYS,
    InvalidProfile,
    PathwayResult,
    Profile,
    UnknownPathway,
    anniversary,
    best_pathway,
    evaluate,
    evaluate_pathway,
    rule_version,
    validate_profile,
)

AS_OF = date(2026, 11, 2)

# The person of the API.md example, as the API sends it.
API_PERSON = {
    "reference": "BS-2026-0142", "given_name": "A", "family_name": "B",
    "birth_date": "2001-04-17", "nationality": "AFG", "entry_date": "2016-09-01",
    "duldung_since": "2017-03-10", "duldung_valid_until": "2027-01-31", "duldung_type": "regular",
    "minor_children": 0, "language_level": "A2",
    "school": {"attending": False, "years_successful": 0, "qualification": None},
    "employment": {"employed": True, "hours_per_week": 38, "since": "2022-05-01"},
    "livelihood_secured": "largely", "identity_clarified": True, "passport_status": "valid",
    "civic_test_passed": True, "criminal_record": {"convicted": False, "day_fines": 0},
}

# A complete, unremarkable profile; tests change single fields with dataclasses.replace.
BASE = Profile(
    birth_date=date(1990, 5, 1), entry_date=date(2015, 6, 1), duldung_since=date(2016, 1, 1),
    duldung_valid_until=date(2027, 1, 31), duldung_type="regular", minor_children=0, language_level="B1",
    school_attending=False, school_years_successful=0, school_qualification=None, employed=True,
    employment_hours_per_week=38.0, employment_since=date(2020, 1, 1), livelihood_secured="fully",
    identity_clarified=True, passport_status="valid", civic_test_passed=True, convicted=False, day_fines=0,
    in_training=False, german_qualification=True, qualified_work_years=5.0, deception=False,
    departure_impossible=True,
)

# A young person for §25a.
YOUNG = replace(
    BASE, birth_date=date(2005, 6, 1), entry_date=date(2021, 3, 1), duldung_since=date(2021, 9, 1),
    school_attending=True, school_years_successful=3, passport_status="applied", employed=False,
    livelihood_secured="none",
)


def one(pathway: str, profile: Profile, as_of: date = AS_OF) -> PathwayResult:
    """Evaluate a single pathway."""
    return evaluate_pathway(pathway, profile, as_of)


# ---- general ---------------------------------------------------------------------------------------


def test_evaluate_returns_one_result_per_pathway_in_order() -> None:
    """API.md eligibility: one entry per pathway 25a, 25b, 104c, 60d, 60c, 16g, 19d, 25_5 (AufenthG)."""
    results = evaluate(Profile.from_person(API_PERSON), AS_OF)
    assert [r.pathway for r in results] == list(PATHWAYS)
    assert set(PATHWAY_LABELS) == set(PATHWAYS)
    assert PATHWAY_LABELS["25b"] == "§ 25b AufenthG – nachhaltige Integration"
    assert all(r.status in ("met", "not_yet", "not_met", "unknown") for r in results)


def test_empty_profile_is_unknown_not_met() -> None:
    """API.md: fields a rule needs but the profile lacks make the pathway unknown (§25a, §25b, §60d …)."""
    results = {r.pathway: r for r in evaluate(Profile(), AS_OF)}
    for pathway in ("25a", "25b", "60d", "60c", "16g", "19d", "25_5"):
        assert results[pathway].status == "unknown", pathway
        assert results[pathway].eligible_from is None
    assert any("person.birth_date" in text for text in results["25a"].missing)
    # §104c expired on 31.12.2025: no field can make it possible in 2026.
    assert results["104c"].status == "not_met"


def test_unknown_pathway() -> None:
    """Only the pathways of API.md exist (e.g. no §18a AufenthG a. F.)."""
    with pytest.raises(UnknownPathway):
        evaluate_pathway("18a", BASE, AS_OF)
    with pytest.raises(UnknownPathway):
        rule_version("18a", AS_OF)


def test_anniversary_counts_start_day() -> None:
    """§187 Abs. 2, §188 Abs. 2 BGB: 6 years from 01.09.2016 are complete on 01.09.2022."""
    assert anniversary(date(2016, 9, 1), years=6) == date(2022, 9, 1)
    assert anniversary(date(2021, 9, 1), months=12) == date(2022, 9, 1)


def test_anniversary_missing_day_moves_to_next_month() -> None:
    """§188 Abs. 3 BGB with §187 Abs. 2 S. 2: born 29.02.2008 turns 1 at the start of 01.03.2009."""
    assert anniversary(date(2008, 2, 29), years=1) == date(2009, 3, 1)
    assert anniversary(date(2008, 2, 29), years=4) == date(2012, 2, 29)
    assert anniversary(date(2024, 1, 31), months=1) == date(2024, 3, 1)
    assert anniversary(date(2024, 10, 31), months=2) == date(2024, 12, 31)


# ---- §25a ------------------------------------------------------------------------------------------


def test_25a_met() -> None:
    """§25a Abs. 1 AufenthG (from 31.12.2022): age 21, 3 years stay, 12 months Duldung, 3 school years."""
    result = one("25a", YOUNG)
    assert result.status == "met", result.missing
    assert result.missing == () and result.eligible_from is None
    assert result.rules_as_of == date(2022, 12, 31)


def test_25a_not_yet_residence() -> None:
    """§25a Abs. 1 S. 1 Nr. 1 AufenthG: 3 years of stay from 10.02.2024 are complete on 10.02.2027."""
    profile = replace(YOUNG, entry_date=date(2024, 2, 10), duldung_since=date(2024, 8, 15))
    result = one("25a", profile)
    assert result.status == "not_yet"
    assert result.eligible_from == date(2027, 2, 10)
    assert "Voraufenthalt von 3 Jahren erst am 10.02.2027 erreicht" in result.missing


def test_25a_not_yet_twelve_months_duldung() -> None:
    """§25a Abs. 1 AufenthG (2022): Duldung for 12 months; Duldung since 15.03.2026 -> 15.03.2027."""
    result = one("25a", replace(YOUNG, duldung_since=date(2026, 3, 15)))
    assert result.status == "not_yet" and result.eligible_from == date(2027, 3, 15)


def test_25a_not_yet_minimum_age_14() -> None:
    """§25a Abs. 1 AufenthG: "Jugendlicher" means at least 14; born 20.05.2013 -> 20.05.2027."""
    profile = replace(YOUNG, birth_date=date(2013, 5, 20), entry_date=date(2019, 1, 1),
                      duldung_since=date(2019, 6, 1))
    result = one("25a", profile)
    assert result.status == "not_yet" and result.eligible_from == date(2027, 5, 20)


def test_25a_not_met_after_27th_birthday() -> None:
    """§25a Abs. 1 S. 1 Nr. 3 AufenthG: application before the 27th birthday; born 01.01.1999 is too old."""
    result = one("25a", replace(YOUNG, birth_date=date(1999, 1, 1)))
    assert result.status == "not_met"
    assert any("27. Geburtstag (01.01.2026)" in text for text in result.missing)


def test_25a_not_met_when_residence_completes_after_27th_birthday() -> None:
    """§25a Abs. 1 S. 1 Nr. 1, 3 AufenthG: stay complete 01.06.2027 but 27th birthday on 01.03.2027."""
    profile = replace(YOUNG, birth_date=date(2000, 3, 1), entry_date=date(2024, 6, 1),
                      duldung_since=date(2024, 6, 1))
    result = one("25a", profile)
    assert result.status == "not_met" and result.eligible_from is None
    assert any("28.02.2027" in text for text in result.missing)
    assert result.uncertain  # whether the ABH may wait for a timely application is unclear


def test_25a_submission_date_decides_age_limit() -> None:
    """§25a Abs. 1 S. 1 Nr. 3 AufenthG: the age limit is checked at the application, not the decision."""
    profile = replace(YOUNG, birth_date=date(1999, 11, 10))
    assert one("25a", profile, date(2026, 12, 1)).status == "not_met"
    submitted = replace(profile, submitted_on=date(2026, 11, 1))
    assert one("25a", submitted, date(2026, 12, 1)).status == "met"


def test_25a_not_met_duldung_light() -> None:
    """§60b Abs. 5 AufenthG: a Duldung light bars §25a."""
    result = one("25a", replace(YOUNG, duldung_type="light_60b"))
    assert result.status == "not_met"
    assert any("§ 60b" in text for text in result.missing)


def test_25a_school_or_qualification() -> None:
    """§25a Abs. 1 S. 1 Nr. 2 AufenthG: 3 school years, or a recognised qualification instead."""
    short = replace(YOUNG, school_years_successful=2)
    assert one("25a", short).status == "not_met"
    assert one("25a", replace(short, school_qualification="Hauptschulabschluss")).status == "met"


def test_25a_passport_or_efforts() -> None:
    """§5 Abs. 1 Nr. 4 AufenthG: passport, or proof that one was applied for or is impossible."""
    result = one("25a", replace(YOUNG, passport_status="none"))
    assert result.status == "not_met"
    assert any("Pass oder Nachweis der Passbemühungen" in text for text in result.missing)
    assert one("25a", replace(YOUNG, passport_status="impossible")).status == "met"


def test_25a_deception_is_mandatory_refusal() -> None:
    """§25a Abs. 1 AufenthG: refusal if deportation is suspended because of the person's own deception."""
    assert one("25a", replace(YOUNG, deception=True)).status == "not_met"


def test_25a_unknown_birth_date() -> None:
    """§25a Abs. 1 AufenthG needs the age; unknown birth date -> unknown, naming the field."""
    result = one("25a", replace(YOUNG, birth_date=None))
    assert result.status == "unknown"
    assert any("person.birth_date" in text for text in result.missing)


def test_25a_old_version_before_31_12_2022() -> None:
    """§25a AufenthG a. F. (until 30.12.2022): application before the 21st birthday and 4 years."""
    profile = replace(YOUNG, birth_date=date(2000, 6, 1), entry_date=date(2017, 1, 1),
                      duldung_since=date(2017, 1, 1), school_years_successful=4)
    old = one("25a", profile, date(2022, 6, 1))
    assert old.status == "not_met" and old.rules_as_of == date(2015, 8, 1)
    assert any("21. Geburtstag" in text for text in old.missing)
    new = one("25a", profile, date(2023, 1, 2))
    assert new.status == "met" and new.rules_as_of == date(2022, 12, 31)


# ---- §25b ------------------------------------------------------------------------------------------


def test_25b_met_api_person() -> None:
    """§25b Abs. 1 AufenthG: API.md person, 6 years since 01.09.2016, A2, test, livelihood largely."""
    result = one("25b", Profile.from_person(API_PERSON))
    assert result.status == "met", result.missing
    assert result.rules_as_of == date(2022, 12, 31)


def test_25b_not_yet_with_and_without_children() -> None:
    """§25b Abs. 1 S. 2 Nr. 1 AufenthG: 6 years, or 4 with a minor child; entry 15.05.2023."""
    profile = replace(BASE, entry_date=date(2023, 5, 15), duldung_since=date(2023, 5, 15))
    without = one("25b", profile)
    assert without.status == "not_yet" and without.eligible_from == date(2029, 5, 15)
    with_child = one("25b", replace(profile, minor_children=2))
    assert with_child.status == "not_yet" and with_child.eligible_from == date(2027, 5, 15)
    assert "Voraufenthalt von 4 Jahren erst am 15.05.2027 erreicht" in with_child.missing


def test_25b_children_unknown_matters_only_before_six_years() -> None:
    """§25b Abs. 1 S. 2 Nr. 1 AufenthG: once 6 years have passed the number of children is irrelevant."""
    assert one("25b", replace(BASE, minor_children=None)).status == "met"
    recent = replace(BASE, entry_date=date(2023, 5, 15), duldung_since=date(2023, 5, 15), minor_children=None)
    result = one("25b", recent)
    assert result.status == "unknown"
    assert any("person.minor_children" in text for text in result.missing)


def test_25b_not_met_language_and_livelihood() -> None:
    """§25b Abs. 1 S. 2 Nr. 3, 4 AufenthG: A2 and livelihood mostly from work; "regelmäßig" -> uncertain."""
    result = one("25b", replace(BASE, language_level="A1", livelihood_secured="partly"))
    assert result.status == "not_met"
    assert any("A2" in text for text in result.missing)
    assert any("Lebensunterhalt" in text for text in result.missing)
    assert result.uncertain


def test_25b_not_met_duldung_light_and_civic_test() -> None:
    """§60b Abs. 5 AufenthG bars §25b; §25b Abs. 1 S. 2 Nr. 2 needs civic knowledge."""
    assert one("25b", replace(BASE, duldung_type="light_60b")).status == "not_met"
    assert one("25b", replace(BASE, civic_test_passed=False)).status == "not_met"


def test_25b_passport_cooperation() -> None:
    """§25b Abs. 2 Nr. 1 AufenthG: not cooperating on a passport bars §25b."""
    assert one("25b", replace(BASE, passport_status="expired")).status == "not_met"
    unclear = one("25b", replace(BASE, identity_clarified=False, passport_status="applied"))
    assert unclear.status == "met" and unclear.uncertain  # reasonable steps: ABH judgment


def test_25b_version_change_2022() -> None:
    """§25b AufenthG: 8 years until 30.12.2022, 6 years from 31.12.2022 (Chancen-Aufenthaltsrecht)."""
    profile = Profile.from_person(API_PERSON)
    old = one("25b", profile, date(2022, 6, 1))
    assert old.status == "not_yet" and old.eligible_from == date(2024, 9, 1)
    assert old.rules_as_of == date(2015, 8, 1)
    assert one("25b", profile, date(2023, 1, 1)).status == "met"


# ---- §104c -----------------------------------------------------------------------------------------

CHANCE = replace(
    BASE, entry_date=date(2017, 10, 31), duldung_since=date(2018, 1, 1), identity_clarified=False,
    passport_status="none", language_level="none", livelihood_secured="none",
)


def test_104c_met_in_2024_not_met_in_2026() -> None:
    """§104c AufenthG: in force 31.12.2022 to 31.12.2025; new applications fail from 01.01.2026."""
    in_2024 = one("104c", CHANCE, date(2024, 6, 1))
    assert in_2024.status == "met", in_2024.missing
    assert in_2024.rules_as_of == date(2022, 12, 31)
    in_2026 = one("104c", CHANCE, date(2026, 1, 1))
    assert in_2026.status == "not_met"
    assert any("31.12.2025 ausgelaufen" in text for text in in_2026.missing)
    assert in_2026.rules_as_of == date(2026, 1, 1)


def test_104c_not_yet_in_force_2022() -> None:
    """§104c AufenthG did not exist before 31.12.2022."""
    result = one("104c", CHANCE, date(2022, 12, 30))
    assert result.status == "not_met" and result.rules_as_of == date(2022, 12, 31)


def test_104c_entry_cutoff() -> None:
    """§104c Abs. 1 AufenthG: 5 years on 31.10.2022, so entry by 31.10.2017; 01.11.2017 is a flagged edge."""
    late = one("104c", replace(CHANCE, entry_date=date(2017, 11, 2)), date(2024, 6, 1))
    assert late.status == "not_met" and not late.uncertain
    edge = one("104c", replace(CHANCE, entry_date=date(2017, 11, 1)), date(2024, 6, 1))
    assert edge.status == "not_met" and edge.uncertain


@pytest.mark.parametrize(
    ("day_fines", "status", "flagged"), [(50, "met", False), (51, "not_met", True), (90, "not_met", True),
                                         (91, "not_met", False)],
)
def test_104c_minor_offence_threshold(day_fines: int, status: str, flagged: bool) -> None:
    """§104c Abs. 1 AufenthG: up to 50 daily rates ignored; 90 for foreigner-only offences (uncertain)."""
    result = one("104c", replace(CHANCE, convicted=True, day_fines=day_fines), date(2024, 6, 1))
    assert result.status == status
    assert bool(result.uncertain) == flagged


def test_104c_conviction_without_day_fines_known_is_unknown() -> None:
    """§104c Abs. 1 AufenthG: a conviction needs the number of daily rates to apply the threshold."""
    result = one("104c", replace(CHANCE, convicted=True, day_fines=None), date(2024, 6, 1))
    assert result.status == "unknown"


def test_104c_application_before_expiry_is_uncertain() -> None:
    """§104c AufenthG: filed by 31.12.2025 but undecided in 2026 is legally unclear (DOMAIN.md)."""
    result = one("104c", replace(CHANCE, submitted_on=date(2025, 12, 15)), date(2026, 2, 1))
    assert result.status == "met"
    assert result.uncertain and result.rules_as_of == date(2022, 12, 31)


def test_104c_duldung_light_counts() -> None:
    """§104c AufenthG: unlike §§25a/25b, time on a §60b Duldung counts."""
    assert one("104c", replace(CHANCE, duldung_type="light_60b"), date(2024, 6, 1)).status == "met"


def test_evaluate_differs_between_2024_and_2026() -> None:
    """Versioned rules: the same profile as of 2024 and 2026 differs for §104c (expired 31.12.2025)."""
    r2024 = {r.pathway: r.status for r in evaluate(CHANCE, date(2024, 6, 1))}
    r2026 = {r.pathway: r.status for r in evaluate(CHANCE, date(2026, 6, 1))}
    assert r2024["104c"] == "met" and r2026["104c"] == "not_met"


# ---- §60d ------------------------------------------------------------------------------------------

WORKER = replace(
    BASE, entry_date=date(2019, 5, 1), duldung_since=date(2020, 1, 1), employment_hours_per_week=25.0,
    employment_since=date(2023, 1, 1), language_level="A2",
)


def test_60d_met() -> None:
    """§60d Abs. 1 AufenthG (from 27.02.2024): entry by 2022, 12 months Duldung and 12 months ≥20 h work."""
    result = one("60d", WORKER)
    assert result.status == "met", result.missing
    assert result.rules_as_of == date(2024, 2, 27)


def test_60d_not_yet_employment() -> None:
    """§60d Abs. 1 AufenthG: 12 months of employment since 15.03.2026 are complete on 15.03.2027."""
    result = one("60d", replace(WORKER, employment_since=date(2026, 3, 15)))
    assert result.status == "not_yet" and result.eligible_from == date(2027, 3, 15)


def test_60d_not_met_entry_after_2022() -> None:
    """§60d Abs. 1 AufenthG (2024): entry by 31.12.2022."""
    profile = replace(WORKER, entry_date=date(2023, 1, 1), duldung_since=date(2023, 2, 1))
    result = one("60d", profile)
    assert result.status == "not_met"
    assert any("31.12.2022" in text for text in result.missing)


def test_60d_hours_and_light() -> None:
    """§60d Abs. 1 AufenthG: at least 20 hours a week; §60b Abs. 5 AufenthG: a Duldung light bars work."""
    assert one("60d", replace(WORKER, employment_hours_per_week=15.0)).status == "not_met"
    assert one("60d", replace(WORKER, duldung_type="light_60b")).status == "not_met"


def test_60d_old_version_before_27_02_2024() -> None:
    """§60d AufenthG a. F.: 35 hours, 18 months and entry by 01.08.2018, replaced on 27.02.2024."""
    old = one("60d", WORKER, date(2024, 1, 15))
    assert old.status == "not_met" and old.rules_as_of == date(2020, 1, 1)
    assert one("60d", WORKER, date(2024, 3, 1)).status == "met"


# ---- §60c and §16g ---------------------------------------------------------------------------------

TRAINEE = replace(BASE, in_training=True, training_qualified=True, duldung_since=date(2026, 1, 1),
                  employed=False, german_qualification=False)


def test_60c_met() -> None:
    """§60c Abs. 1, 2 AufenthG: qualified training, Duldung for 3 months, identity clarified."""
    assert one("60c", TRAINEE).status == "met"


def test_60c_not_yet_three_months_duldung() -> None:
    """§60c Abs. 2 Nr. 2 AufenthG: 3 months of Duldung since 10.09.2026 are complete on 10.12.2026."""
    result = one("60c", replace(TRAINEE, duldung_since=date(2026, 9, 10)))
    assert result.status == "not_yet" and result.eligible_from == date(2026, 12, 10)


def test_60c_unknown_and_not_met_training() -> None:
    """§60c Abs. 1 AufenthG: without knowing about a training the pathway is unknown; without one not met."""
    assert one("60c", replace(TRAINEE, in_training=None)).status == "unknown"
    assert one("60c", replace(TRAINEE, in_training=False)).status == "not_met"


def test_16g_not_in_force_before_march_2024() -> None:
    """§16g AufenthG applies from 01.03.2024 (Gesetz zur Weiterentwicklung der Fachkräfteeinwanderung)."""
    profile = replace(TRAINEE, duldung_since=date(2023, 1, 1))
    before = one("16g", profile, date(2024, 2, 29))
    assert before.status == "not_met" and any("01.03.2024" in text for text in before.missing)
    after = one("16g", profile, date(2024, 3, 1))
    assert after.status == "met" and after.rules_as_of == date(2024, 3, 1)


def test_16g_passport_and_livelihood() -> None:
    """§16g AufenthG: §60c conditions plus passport duty and livelihood at BAföG level."""
    assert one("16g", replace(TRAINEE, passport_status="applied")).status == "not_met"
    assert one("16g", replace(TRAINEE, livelihood_secured="partly")).status == "not_met"
    assert one("60c", replace(TRAINEE, passport_status="applied")).status == "met"


# ---- §19d ------------------------------------------------------------------------------------------


def test_19d_met_with_german_qualification() -> None:
    """§19d Abs. 1 Nr. 1 a AufenthG: qualified training in Germany, B1, no relevant conviction."""
    assert one("19d", BASE).status == "met"


def test_19d_not_yet_qualified_work() -> None:
    """§19d Abs. 1 Nr. 1 c AufenthG: 3 years qualified work; 2 years done -> estimated a year later."""
    profile = replace(BASE, german_qualification=False, qualified_work_years=2.0)
    result = one("19d", profile)
    assert result.status == "not_yet" and result.eligible_from == date(2027, 11, 2)
    assert result.uncertain  # an estimate


def test_19d_not_met_language_and_unknown_qualification() -> None:
    """§19d Abs. 1 Nr. 2 AufenthG: B1 German; without qualification data the pathway is unknown."""
    assert one("19d", replace(BASE, language_level="A2")).status == "not_met"
    unknown = one("19d", replace(BASE, german_qualification=None, qualified_work_years=None))
    assert unknown.status == "unknown"


# ---- §25 Abs. 5 ------------------------------------------------------------------------------------


def test_25_5_met_not_yet_not_met_unknown() -> None:
    """§25 Abs. 5 AufenthG: "soll" after 18 months of suspended deportation, without own fault."""
    assert one("25_5", BASE).status == "met"
    recent = one("25_5", replace(BASE, duldung_since=date(2025, 12, 1)))
    assert recent.status == "not_yet" and recent.eligible_from == date(2027, 6, 1)
    assert one("25_5", replace(BASE, deception=True)).status == "not_met"
    assert one("25_5", replace(BASE, departure_impossible=None)).status == "unknown"
    assert one("25_5", replace(BASE, departure_impossible=False)).status == "not_met"


# ---- combination rules -----------------------------------------------------------------------------


def test_not_met_beats_not_yet() -> None:
    """Engine rule: a condition time will not fix (§25b A2) makes a waiting pathway not_met."""
    profile = replace(BASE, entry_date=date(2023, 5, 15), duldung_since=date(2023, 5, 15),
                      language_level="A1")
    result = one("25b", profile)
    assert result.status == "not_met" and result.eligible_from is None
    assert any("2029" in text for text in result.missing)  # the waiting part is still reported


def test_best_pathway_prefers_25b_then_earliest() -> None:
    """Engine rule: among met §25b before §25a; else the not_yet pathway met soonest; else None."""
    def r(pathway: str, status: str, when: date | None = None) -> PathwayResult:
        return PathwayResult(pathway, status, when, (), date(2022, 12, 31), ())

    def best(results: list[PathwayResult]) -> str | None:
        chosen = best_pathway(results)
        return chosen.pathway if chosen else None

    assert best([r("60d", "met"), r("25a", "met"), r("25b", "met")]) == "25b"
    assert best([r("60d", "met"), r("25a", "met")]) == "25a"
    assert best([r("60d", "met"), r("104c", "met"), r("19d", "met")]) == "19d"
    waiting = [r("25b", "not_yet", date(2027, 5, 1)), r("60c", "not_yet", date(2026, 12, 1)),
               r("25a", "not_met")]
    assert best(waiting) == "60c"
    tie = [r("60c", "not_yet", date(2027, 5, 1)), r("25b", "not_yet", date(2027, 5, 1))]
    assert best(tie) == "25b"
    assert best([r("25a", "not_met"), r("25b", "unknown")]) is None
    assert best([]) is None


# ---- validation and parsing ------------------------------------------------------------------------


def test_from_person_reads_nested_api_shape() -> None:
    """API.md person: nested school, employment and criminal_record; ISO dates become date objects."""
    profile = Profile.from_person(API_PERSON)
    assert profile.birth_date == date(2001, 4, 17)
    assert profile.employment_since == date(2022, 5, 1)
    assert profile.employment_hours_per_week == 38.0
    assert profile.school_years_successful == 0 and profile.school_qualification is None
    assert profile.convicted is False and profile.day_fines == 0
    assert Profile.from_person({"birth_date": date(2001, 4, 17)}).birth_date == date(2001, 4, 17)


def test_from_person_reports_bad_types_with_paths() -> None:
    """API.md 422: invalid fields are reported with their paths (no §; input contract)."""
    with pytest.raises(InvalidProfile) as info:
        Profile.from_person({"birth_date": "2026-02-30", "school": "none",
                             "employment": {"hours_per_week": "38"}, "minor_children": True})
    paths = {path for path, _ in info.value.errors}
    assert {"person.birth_date", "person.school", "person.employment.hours_per_week",
            "person.minor_children"} <= paths


def test_validate_profile_errors() -> None:
    """Plausibility of the person (input contract): order of dates, future dates, ranges and enums."""
    bad = replace(
        BASE, birth_date=date(2016, 1, 1), entry_date=date(2015, 6, 1), duldung_since=date(2015, 1, 1),
        minor_children=-1, employment_hours_per_week=90.0, duldung_type="weird", language_level="A3",
        convicted=False, day_fines=10, employment_since=date(2027, 1, 1),
    )
    errors = dict(validate_profile(bad, AS_OF))
    assert "person.entry_date" in errors  # before birth
    assert "person.duldung_since" in errors  # before entry
    assert "person.minor_children" in errors
    assert "person.employment.hours_per_week" in errors
    assert "person.duldung_type" in errors and "person.language_level" in errors
    assert "person.criminal_record.day_fines" in errors
    assert "person.employment.since" in errors  # in the future
    assert validate_profile(BASE, AS_OF) == []


def test_validate_profile_future_dates_need_as_of() -> None:
    """Pure rules read no clock: future checks only run against the given as_of."""
    future = replace(BASE, birth_date=date(2030, 1, 1), entry_date=None, duldung_since=None,
                     employment_since=None)
    assert validate_profile(future) == []
    assert ("person.birth_date", "is in the future (after 2026-11-02)") in validate_profile(future, AS_OF)


def test_evaluate_rejects_invalid_profile() -> None:
    """An inconsistent profile cannot be judged under any § and raises InvalidProfile with its errors."""
    with pytest.raises(InvalidProfile) as info:
        evaluate(replace(BASE, passport_status="lost"), AS_OF)
    assert info.value.errors[0][0] == "person.passport_status"
