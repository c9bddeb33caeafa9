"""Eligibility and deadline endpoints, and the pathway choice of complete_intake (issue 4, API.md)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.conftest import Api, new_case, person


async def test_eligibility_check_stores_nothing_and_lists_every_pathway(counselor: Api) -> None:
    before = (await counselor.get("/api/v1/cases", params={"limit": 200})).json()["items"]
    r = await counselor.post("/api/v1/eligibility/check", json={"person": person(), "as_of": "2026-11-25"})
    assert r.status_code == 200, r.text
    results = {e["pathway"]: e for e in r.json()}
    assert list(results) == ["25a", "25b", "104c", "60d", "60c", "16g", "19d", "25_5"]
    # §25b: six years of prior residence since 2016-09-01, A2, civic test, livelihood largely secured
    assert results["25b"]["status"] == "met"
    # §104c expired on 31 Dec 2025: new applications fail from 2026 on
    assert results["104c"]["status"] == "not_met"
    assert (await counselor.get("/api/v1/cases", params={"limit": 200})).json()["items"] == before


async def test_eligibility_as_of_2024_differs_from_2026(counselor: Api) -> None:
    """§104c AufenthG applied until 31 Dec 2025: the same person meets it as of 2024, not as of 2026."""
    p = person(entry_date="2015-03-01", duldung_since="2015-06-01")
    then = {e["pathway"]: e for e in (await counselor.post("/api/v1/eligibility/check",
                                                           json={"person": p, "as_of": "2024-06-01"})).json()}
    now = {e["pathway"]: e for e in (await counselor.post("/api/v1/eligibility/check",
                                                          json={"person": p, "as_of": "2026-06-01"})).json()}
    assert then["104c"]["status"] == "met" and now["104c"]["status"] == "not_met"
    assert then["104c"]["rules_as_of"] != now["104c"]["rules_as_of"] or now["104c"]["missing"]


async def test_not_yet_gives_the_earliest_date(counselor: Api) -> None:
    """§25b Abs. 1 Nr. 1: six years of prior residence; entry five years ago → met on the sixth anniversary."""
    entry = date(2021, 3, 1)
    p = person(entry_date=entry.isoformat(), duldung_since="2021-06-01", employment={"employed": True,
               "hours_per_week": 38, "since": "2022-01-01"})
    r = await counselor.post("/api/v1/eligibility/check", json={"person": p, "as_of": "2026-11-25"})
    b = next(e for e in r.json() if e["pathway"] == "25b")
    assert b["status"] == "not_yet" and b["eligible_from"] == "2027-03-01"


async def test_eligibility_bad_input_names_the_field(counselor: Api) -> None:
    r = await counselor.post("/api/v1/eligibility/check",
                             json={"person": person(birth_date="2018-01-01"), "as_of": "2026-11-25"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} & {"person.birth_date", "person.entry_date"}
    r = await counselor.post("/api/v1/eligibility/check", json={"person": person(birth_date="2001-02-30")})
    assert r.status_code == 422 and any(e["field"] == "person.birth_date" for e in r.json()["errors"])
    r = await counselor.post("/api/v1/eligibility/check", json={"person": person(language_level="Z9")})
    assert r.status_code == 422 and any(e["field"] == "person.language_level" for e in r.json()["errors"])


async def test_case_eligibility_endpoint(counselor: Api) -> None:
    case = await new_case(counselor)
    r = await counselor.get(f"/api/v1/cases/{case['id']}/eligibility")
    assert r.status_code == 200
    assert {e["pathway"]: e["status"] for e in r.json()}["25b"] == "met"


async def test_complete_intake_without_pathway_picks_the_best(counselor: Api) -> None:
    case = await new_case(counselor)
    case = await counselor.act(case["id"], "complete_intake", {})
    assert case["pathway"] == "25b" and case["stage"] == "document_collection"


async def test_not_yet_pathway_waits_in_intake(counselor: Api) -> None:
    """The case waits in intake until the eligibility date minus the lead time (DESIGN.md)."""
    soon = date.today() - timedelta(days=6 * 365 - 120)  # six years complete in about four months
    case = await new_case(counselor, entry_date=soon.isoformat(), duldung_since=soon.isoformat(),
                          employment={"employed": True, "hours_per_week": 38, "since": soon.isoformat()})
    case = await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    assert case["stage"] == "intake" and case["status"] == "waiting"
    wait = next(d for d in case["deadlines"] if d["kind"] == "eligibility_date")
    assert wait["state"] == "pending" and date.fromisoformat(wait["due"]) > date.today()
    await counselor.act(case["id"], "withdraw", {"reason": "Test"})


async def test_deadline_compute_matches_api_md(counselor: Api) -> None:
    """§193 BGB: 2026-03-28 + 14 days = Saturday 2026-04-11 → Monday 2026-04-13 (Easter Monday is 6 April)."""
    params = {"event": "2026-03-28", "period": "P14D", "state": "SN"}
    r = await counselor.get("/api/v1/deadlines/compute", params=params)
    assert r.status_code == 200
    body = r.json()
    assert body["end"] == "2026-04-13" and body["shifted_from"] == "2026-04-11" and "Saturday" in body["reason"]
    r = await counselor.get("/api/v1/deadlines/compute", params={"event": "2026-01-31", "period": "P1M"})
    assert r.json()["end"] == "2026-03-02" and r.json()["shifted_from"] == "2026-02-28"  # §188 Abs. 3, then §193


async def test_deadline_compute_bad_input(counselor: Api) -> None:
    for params, field in (({"event": "2026-02-30", "period": "P1M"}, "event"),
                          ({"event": "2026-03-01", "period": "P1Q"}, "period"),
                          ({"event": "2026-03-01", "period": "P1M", "state": "XX"}, "state")):
        r = await counselor.get("/api/v1/deadlines/compute", params=params)
        assert r.status_code == 422, params
        assert any(e["field"].endswith(field) for e in r.json()["errors"]), r.json()
