"""Cases over HTTP against a real worker, dev server and database (API.md "Cases", "Errors")."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from tests.conftest import Api, complete_checklist, new_case, person


async def test_lifecycle_to_grant_with_timeline(counselor: Api, liaison: Api, lead: Api) -> None:
    case = await new_case(counselor)
    cid = case["id"]
    assert case["stage"] == "intake" and case["status"] == "active"
    assert case["allowed_actions"] == ["complete_intake", "withdraw", "add_note", "revoke_consent"]
    case = await counselor.act(cid, "complete_intake", {"pathway": "25b"})
    assert case["stage"] == "document_collection" and case["pathway"] == "25b"
    case = await complete_checklist(counselor, case)
    case = await counselor.act(cid, "submit_to_authority")
    assert case["stage"] == "authority_review"
    case = await liaison.act(cid, "acknowledge", {"file_number": "ABH-77"})
    assert case["authority_file_number"] == "ABH-77"
    due = (date.today() + timedelta(days=40)).isoformat()
    case = await liaison.act(cid, "request_documents", {"documents": ["payslips"], "due": due})
    assert case["stage"] == "document_collection"
    assert any(d["kind"] == "document_due" and d["due"] == due for d in case["deadlines"])
    case = await complete_checklist(counselor, case)
    case = await counselor.act(cid, "submit_to_authority")
    case = await liaison.act(cid, "refer_to_meeting", {"reason": "Identitätsfragen"})
    assert case["stage"] == "joint_meeting" and case["meeting_id"].startswith("meeting-")
    mid = case["meeting_id"]
    m = (await lead.get(f"/api/v1/meetings/{mid}")).json()
    assert [i["case_id"] for i in m["agenda"]] == [cid] or cid in [i["case_id"] for i in m["agenda"]]
    r = await lead.post(f"/api/v1/meetings/{mid}/minutes",
                        json={"items": [{"case_id": cid, "outcome": "decision_ready", "note": "einig"}]})
    assert r.status_code == 200, r.text
    for _ in range(50):
        case = (await counselor.get(f"/api/v1/cases/{cid}")).json()
        if case["stage"] == "decision":
            break
        await asyncio.sleep(0.1)
    assert case["stage"] == "decision"
    case = await liaison.act(cid, "decide", {"outcome": "granted", "permit": "25b", "valid_until": "2028-11-30"})
    assert case["stage"] == "closed" and case["outcome"] == "granted" and case["status"] == "closed"
    tl = (await counselor.get(f"/api/v1/cases/{cid}/timeline")).json()
    actions = [e["action"] for e in tl]
    for a in ("create_case", "complete_intake", "submit_to_authority", "acknowledge", "request_documents",
              "refer_to_meeting", "meeting_outcome", "decide"):
        assert a in actions, (a, actions)
    assert tl[0]["actor"] == counselor.user.name and tl[0]["role"] == "counselor"
    refer = next(e for e in tl if e["action"] == "refer_to_meeting")
    assert refer["details"]["text"] == "Identitätsfragen"


async def test_wrong_stage_is_409_with_allowed_actions(counselor: Api, liaison: Api) -> None:
    case = await new_case(counselor)
    r = await counselor.post(f"/api/v1/cases/{case['id']}/actions/submit_to_authority", json={})
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["current_stage"] == "intake"
    assert body["allowed_actions"] == ["complete_intake", "withdraw", "add_note", "revoke_consent"]
    # the authority cannot even see a case that was never submitted
    r = await liaison.post(f"/api/v1/cases/{case['id']}/actions/acknowledge", json={"file_number": "X"})
    assert r.status_code == 404


async def test_wrong_role_is_403(counselor: Api, liaison: Api) -> None:
    case = await new_case(counselor)
    await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    case = await complete_checklist(counselor, (await counselor.get(f"/api/v1/cases/{case['id']}")).json())
    await counselor.act(case["id"], "submit_to_authority")
    r = await counselor.post(f"/api/v1/cases/{case['id']}/actions/acknowledge", json={"file_number": "X"})
    assert r.status_code == 403
    r = await liaison.post("/api/v1/cases", json={"person": person(), "consent_to_share": {"given": True}})
    assert r.status_code == 403


async def test_idempotency_key_applies_once(counselor: Api) -> None:
    key = f"k-{uuid.uuid4()}"
    body = {"person": person(), "consent_to_share": {"given": True, "date": "2026-11-02"}}
    r1 = await counselor.post("/api/v1/cases", json=body, headers={"Idempotency-Key": key})
    r2 = await counselor.post("/api/v1/cases", json=body, headers={"Idempotency-Key": key})
    assert r1.status_code == r2.status_code == 201
    assert r1.json()["id"] == r2.json()["id"]
    cid = r1.json()["id"]
    await counselor.act(cid, "complete_intake", {"pathway": "25b"})
    nkey = f"n-{uuid.uuid4()}"
    a = await counselor.act(cid, "add_note", {"text": "einmal", "visibility": "shared"}, key=nkey)
    b = await counselor.act(cid, "add_note", {"text": "einmal", "visibility": "shared"}, key=nkey)
    assert a == b
    tl = (await counselor.get(f"/api/v1/cases/{cid}/timeline")).json()
    assert [e["action"] for e in tl].count("add_note") == 1
    # the same key with another body is refused, not applied
    r = await counselor.post(f"/api/v1/cases/{cid}/actions/add_note", json={"text": "anders", "visibility": "shared"},
                             headers={"Idempotency-Key": nkey})
    assert r.status_code == 422


async def test_bad_input_is_clear(counselor: Api) -> None:
    r = await counselor.post("/api/v1/cases", json={"person": person(birth_date="2020-01-01", entry_date="2016-01-01"),
                                                     "consent_to_share": {"given": True}})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert any(e["field"] in ("person.birth_date", "person.entry_date") for e in r.json()["errors"])
    r = await counselor.post("/api/v1/cases", json={"person": {"reference": ""}, "consent_to_share": {}})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert "person.reference" in fields and "consent_to_share.given" in fields
    assert (await counselor.get("/api/v1/cases/case-00000000-0000-0000-0000-000000000000")).status_code == 404
    assert (await counselor.get("/api/v1/cases/nonsense")).status_code == 404
    case = await new_case(counselor)
    r = await counselor.post(f"/api/v1/cases/{case['id']}/actions/fly_to_moon", json={})
    assert r.status_code == 404
    r = await counselor.post(f"/api/v1/cases/{case['id']}/actions/complete_intake", json={"pathway": "99"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pathway"
    r = await counselor.post(f"/api/v1/cases/{case['id']}/actions/complete_intake", content=b"{not json",
                             headers={"content-type": "application/json"})
    assert r.status_code == 422
    anon = Api(counselor.http._transport.app, None)  # type: ignore[attr-defined]
    assert (await anon.get("/api/v1/cases")).status_code == 401


async def test_list_filters_and_cursor(counselor: Api, liaison: Api) -> None:
    tag = uuid.uuid4().hex[:6]
    ids = [(await new_case(counselor, reference=f"L{tag}-{i}"))["id"] for i in range(5)]
    page1 = (await counselor.get("/api/v1/cases", params={"q": f"L{tag}", "limit": 2})).json()
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    page2 = (await counselor.get("/api/v1/cases", params={"q": f"L{tag}", "limit": 2,
                                                          "cursor": page1["next_cursor"]})).json()
    page3 = (await counselor.get("/api/v1/cases", params={"q": f"L{tag}", "limit": 2,
                                                          "cursor": page2["next_cursor"]})).json()
    seen = [c["id"] for p in (page1, page2, page3) for c in p["items"]]
    assert sorted(seen) == sorted(ids) and page3["next_cursor"] is None
    assert (await counselor.get("/api/v1/cases", params={"stage": "closed", "q": f"L{tag}"})).json()["items"] == []
    # not submitted: invisible to the authority
    assert (await liaison.get("/api/v1/cases", params={"q": f"L{tag}"})).json()["items"] == []


async def test_second_case_for_a_reference_is_409_and_stores_nothing(counselor: Api) -> None:
    first = await new_case(counselor)
    r = await counselor.post("/api/v1/cases", json={"person": person(reference=first["reference"]),
                                                     "consent_to_share": {"given": True}})
    assert r.status_code == 409 and r.json()["reference"] == first["reference"]
    found = (await counselor.get("/api/v1/cases", params={"q": first["reference"]})).json()["items"]
    assert [c["id"] for c in found] == [first["id"]]
