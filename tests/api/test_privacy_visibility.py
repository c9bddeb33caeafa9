"""Two data controllers: the authority sees only submitted cases with consent; internal notes stay home."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from store.models import AuditEvent, Case
from tests.conftest import Api, complete_checklist, new_case

PASSWORD = "richtig-geheim-42"


async def submitted_case(counselor: Api, consent: bool = True) -> dict[str, Any]:
    case = await new_case(counselor, consent=consent)
    await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    case = await complete_checklist(counselor, (await counselor.get(f"/api/v1/cases/{case['id']}")).json())
    return await counselor.act(case["id"], "submit_to_authority")


async def listed(api: Api, case: dict[str, Any]) -> bool:
    r = await api.get("/api/v1/cases", params={"q": case["reference"], "limit": 200})
    assert r.status_code == 200
    return case["id"] in {c["id"] for c in r.json()["items"]}


async def test_authority_sees_only_submitted_cases_with_consent(counselor: Api, liaison: Api, lead: Api) -> None:
    draft = await new_case(counselor)
    assert (await liaison.get(f"/api/v1/cases/{draft['id']}")).status_code == 404
    assert (await liaison.get(f"/api/v1/cases/{draft['id']}/timeline")).status_code == 404
    assert not await listed(liaison, draft) and await listed(counselor, draft)
    no_consent = await new_case(counselor, consent=False)
    await counselor.act(no_consent["id"], "complete_intake", {"pathway": "25b"})
    doc = await complete_checklist(counselor, (await counselor.get(f"/api/v1/cases/{no_consent['id']}")).json())
    r = await counselor.post(f"/api/v1/cases/{doc['id']}/actions/submit_to_authority", json={})
    assert r.status_code == 409  # no recorded consent: it cannot reach the authority at all
    assert (await lead.get(f"/api/v1/cases/{no_consent['id']}")).status_code == 404
    case = await submitted_case(counselor)
    for api in (liaison, lead):
        assert (await api.get(f"/api/v1/cases/{case['id']}")).status_code == 200
        assert await listed(api, case)


async def test_revoking_consent_hides_the_case_again_and_is_audited(counselor: Api, liaison: Api,
                                                                  sessions: Any) -> None:
    case = await submitted_case(counselor)
    assert (await liaison.get(f"/api/v1/cases/{case['id']}")).status_code == 200
    r = await liaison.post(f"/api/v1/cases/{case['id']}/actions/revoke_consent", json={"reason": "x"})
    assert r.status_code == 403  # only the counseling service records or revokes the person's consent
    reason = f"Widerruf-{uuid.uuid4().hex}"
    after = await counselor.act(case["id"], "revoke_consent", {"reason": reason})
    assert after["consent_given"] is False
    assert (await liaison.get(f"/api/v1/cases/{case['id']}")).status_code == 404
    assert (await liaison.post(f"/api/v1/cases/{case['id']}/actions/add_note",
                               json={"text": "x", "visibility": "shared"})).status_code == 404
    assert not await listed(liaison, case)
    timeline = (await counselor.get(f"/api/v1/cases/{case['id']}/timeline")).json()
    revoke = next(e for e in timeline if e["action"] == "revoke_consent")
    assert revoke["actor"] == counselor.user.name and revoke["role"] == "counselor"
    assert revoke["details"]["text"] == reason
    async with sessions() as s:
        row = await s.get(Case, case["id"])
        assert row is not None and row.consent_given is False and row.consent_revoked_at is not None
        audited = await s.scalar(select(AuditEvent).where(AuditEvent.case_id == case["id"],
                                                          AuditEvent.action == "revoke_consent"))
        assert audited is not None and audited.institution == "counseling" and audited.actor_id == counselor.user.id


async def test_internal_notes_never_leave_their_institution(app: Any, make_api: Any, counselor: Api,
                                                            liaison: Api, lead: Api, ops: Api) -> None:
    case = await submitted_case(counselor)
    cid = case["id"]
    counseling_secret = f"BS-INTERN-{uuid.uuid4().hex}"
    authority_secret = f"ABH-INTERN-{uuid.uuid4().hex}"
    shared_text = f"GETEILT-{uuid.uuid4().hex}"
    await counselor.act(cid, "add_note", {"text": counseling_secret, "visibility": "internal"})
    await liaison.act(cid, "add_note", {"text": authority_secret, "visibility": "internal"})
    await counselor.act(cid, "add_note", {"text": shared_text, "visibility": "shared"})
    case = await liaison.act(cid, "refer_to_meeting", {"reason": f"Tagesordnung {shared_text}"})
    mid = case["meeting_id"]
    await counselor.act(cid, "add_note", {"text": counseling_secret + "-2", "visibility": "internal"})

    async def seen_by(api: Api) -> str:
        urls = [f"/api/v1/cases/{cid}", f"/api/v1/cases/{cid}/timeline", "/api/v1/cases?limit=200",
                f"/api/v1/cases?q={case['reference']}", f"/api/v1/meetings/{mid}", "/api/v1/meetings",
                f"/api/v1/meetings/{mid}/agenda.html", "/api/v1/reports/summary", "/api/v1/reports/summary.csv"]
        out = []
        for url in urls:
            r = await api.get(url)
            assert r.status_code in (200, 403, 404), (url, r.status_code)
            out.append(r.text)
        return "\n".join(out)

    counseling_view = await seen_by(counselor)
    assert counseling_secret in counseling_view and shared_text in counseling_view
    assert authority_secret not in counseling_view
    for api in (liaison, lead):
        view = await seen_by(api)
        assert shared_text in view and authority_secret in view
        assert counseling_secret not in view
    ops_view = await seen_by(ops)
    assert counseling_secret not in ops_view and authority_secret not in ops_view
    # the web UI's pages too (cookie session of an authority user)
    web_user = await make_api("authority_liaison", password=PASSWORD)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.8.7", 1)),
                                 base_url="http://test") as web:
        r = await web.post("/api/v1/auth/login", json={"username": web_user.user.name, "password": PASSWORD})
        assert r.status_code == 200
        pages = [await web.get(u) for u in (f"/cases/{cid}", "/cases", f"/meetings/{mid}", "/reports", "/")]
        assert any(p.status_code == 200 and case["reference"] in p.text for p in pages)
        assert all(counseling_secret not in p.text for p in pages)
