"""Joint meetings over HTTP against a real worker: referral, agenda (JSON, HTML, PDF), minutes, carry-over,
and the iCalendar feed with its feed token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from icalendar import Calendar
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from store.models import AuditEvent
from tests.conftest import Api, complete_checklist, new_case


async def in_review(counselor: Api) -> dict[str, Any]:
    case = await new_case(counselor)
    case = await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    case = await complete_checklist(counselor, case)
    return await counselor.act(case["id"], "submit_to_authority")


async def eventually(check: Callable[[], Awaitable[Any]], what: str, tries: int = 100) -> Any:
    for _ in range(tries):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


async def test_referral_joins_the_next_meeting_which_runs_a_workflow(counselor: Api, liaison: Api,
                                                                    dev_env: WorkflowEnvironment) -> None:
    case = await in_review(counselor)
    case = await liaison.act(case["id"], "refer_to_meeting", {"reason": "Identität ungeklärt"})
    mid = case["meeting_id"]
    assert case["stage"] == "joint_meeting" and mid.startswith("meeting-")
    assert date.fromisoformat(mid.removeprefix("meeting-")) >= date.today()
    desc = await dev_env.client.get_workflow_handle(mid).describe()
    assert desc.workflow_type == "MeetingWorkflow" and desc.status == WorkflowExecutionStatus.RUNNING
    m = (await liaison.get(f"/api/v1/meetings/{mid}")).json()
    assert m["state"] == "planned"
    item = next(i for i in m["agenda"] if i["case_id"] == case["id"])
    assert item["reference"] == case["reference"] and item["stage"] == "joint_meeting"
    assert item["reason"] == "Identität ungeklärt" and item["days_in_stage"] == 0
    assert item["open_questions"] == [] and item["outcome"] is None
    assert set(item) >= {"case_id", "reference", "stage", "pathway", "reason", "referred_by", "referred_at"}


async def test_agenda_prints_as_html_and_pdf_without_names(counselor: Api, liaison: Api, lead: Api) -> None:
    first = await in_review(counselor)
    first = await liaison.act(first["id"], "refer_to_meeting", {"reason": "Passbeschaffung – zumutbar?"})
    mid = first["meeting_id"]
    r = await lead.get(f"/api/v1/meetings/{mid}/agenda.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and len(r.content) > 1000
    r = await lead.get(f"/api/v1/meetings/{mid}/agenda.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "Tagesordnung" in html and first["reference"] in html and "Passbeschaffung – zumutbar?" in html
    assert "Testa" not in html and "Person" not in html  # the person's names never print
    # longest waiting first: the JSON agenda is ordered by the time each case entered the meeting stage
    agenda = (await lead.get(f"/api/v1/meetings/{mid}")).json()["agenda"]
    entered = [(await lead.get(f"/api/v1/cases/{i['case_id']}")).json()["stage_entered_at"] for i in agenda]
    assert entered == sorted(entered)
    assert (await lead.get("/api/v1/meetings/meeting-1999-01-01/agenda.pdf")).status_code == 404


async def test_minutes_retried_apply_once_and_open_cases_move_on(counselor: Api, liaison: Api, lead: Api,
                                                                 sessions: Any) -> None:
    decided = await in_review(counselor)
    left_open = await in_review(counselor)
    decided = await liaison.act(decided["id"], "refer_to_meeting", {"reason": "Entscheidung abstimmen"})
    left_open = await liaison.act(left_open["id"], "refer_to_meeting", {"reason": "Noch offen"})
    mid = decided["meeting_id"]
    assert left_open["meeting_id"] == mid
    minutes = {"items": [{"case_id": decided["id"], "outcome": "decision_ready", "note": "einig"}]}
    for _ in range(2):  # a client retrying the same request
        r = await lead.post(f"/api/v1/meetings/{mid}/minutes", json=minutes)
        assert r.status_code == 200, r.text
        assert r.json() == {"meeting_id": mid, "applied": [decided["id"]]}

    async def decided_stage() -> bool:
        return bool((await counselor.get(f"/api/v1/cases/{decided['id']}")).json()["stage"] == "decision")
    await eventually(decided_stage, "decision")
    timeline = (await counselor.get(f"/api/v1/cases/{decided['id']}/timeline")).json()
    assert [e["action"] for e in timeline].count("meeting_outcome") == 1

    async def moved() -> Any:
        case = (await counselor.get(f"/api/v1/cases/{left_open['id']}")).json()
        return case if case["meeting_id"] != mid else None
    moved_case = await eventually(moved, "carry-over")
    nxt = moved_case["meeting_id"]
    assert moved_case["stage"] == "joint_meeting" and nxt > mid
    old = (await lead.get(f"/api/v1/meetings/{mid}")).json()
    assert old["state"] == "held"
    outcomes = {i["case_id"]: i["outcome"] for i in old["agenda"]}
    assert outcomes[decided["id"]] == "decision_ready" and outcomes[left_open["id"]] == "carried_over"
    new = (await lead.get(f"/api/v1/meetings/{nxt}")).json()
    carried = next(i for i in new["agenda"] if i["case_id"] == left_open["id"])
    assert carried["reason"] == "Noch offen" and carried["outcome"] is None
    timeline = (await counselor.get(f"/api/v1/cases/{left_open['id']}/timeline")).json()
    move = [e for e in timeline if e["action"] == "move_to_meeting"]
    assert len(move) == 1 and move[0]["details"]["meeting_id"] == nxt
    # the carried-over case can no longer get an outcome from the old meeting
    r = await lead.post(f"/api/v1/meetings/{mid}/minutes",
                        json={"items": [{"case_id": left_open["id"], "outcome": "back_to_review"}]})
    assert r.status_code == 422 and r.json()["errors"][0]["message"] == "wurde auf das nächste Treffen vertagt"
    async with sessions() as s:
        audits = (await s.scalars(select(AuditEvent).where(AuditEvent.action == "record_minutes"))).all()
    assert len([a for a in audits if a.details["meeting_id"] == mid]) == 1


async def test_minutes_refuse_cases_not_on_the_agenda_and_ops(counselor: Api, liaison: Api, lead: Api,
                                                              ops: Api) -> None:
    case = await in_review(counselor)
    case = await liaison.act(case["id"], "refer_to_meeting", {"reason": "x"})
    mid = case["meeting_id"]
    r = await lead.post(f"/api/v1/meetings/{mid}/minutes",
                        json={"items": [{"case_id": "case-unknown", "outcome": "decision_ready"}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items.0.case_id"
    r = await ops.post(f"/api/v1/meetings/{mid}/minutes",
                       json={"items": [{"case_id": case["id"], "outcome": "decision_ready"}]})
    assert r.status_code == 403
    assert (await ops.post("/api/v1/meetings", json={"date": "2099-01-06"})).status_code == 403


async def test_create_meeting_is_idempotent_and_starts_its_workflow(liaison: Api,
                                                                    dev_env: WorkflowEnvironment) -> None:
    d = (date.today() + timedelta(days=200)).isoformat()
    for _ in range(2):
        r = await liaison.post("/api/v1/meetings", json={"date": d, "title": "Sondertreffen"})
        assert r.status_code == 201, r.text
        assert r.json()["id"] == f"meeting-{d}" and r.json()["title"] == "Sondertreffen"
    desc = await dev_env.client.get_workflow_handle(f"meeting-{d}").describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING
    r = await liaison.post("/api/v1/meetings", json={"date": "2000-01-01"})
    assert r.status_code == 422


async def test_calendar_feed_with_token_lists_meetings_and_deadlines(counselor: Api, liaison: Api, app: Any) -> None:
    case = await in_review(counselor)
    due = (date.today() + timedelta(days=30)).isoformat()
    case = await liaison.act(case["id"], "request_documents", {"documents": ["payslips"], "due": due})
    d = (date.today() + timedelta(days=150)).isoformat()
    assert (await liaison.post("/api/v1/meetings", json={"date": d})).status_code == 201

    r = await counselor.post("/api/v1/calendar/feed-token")
    assert r.status_code == 200
    token, url = r.json()["token"], r.json()["url"]
    assert url.endswith(f"/api/v1/calendar.ics?token={token}")
    anonymous = Api(app, None)
    r = await anonymous.get("/api/v1/calendar.ics", params={"token": token})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    meeting = events[next(u for u in events if u.startswith(f"meeting-{d}@"))]
    assert meeting.decoded("dtstart") == date.fromisoformat(d)
    deadline = next(e for u, e in events.items() if u.startswith(f"{case['id']}-document_due-{due}"))
    assert deadline.decoded("dtstart") == date.fromisoformat(due)
    assert case["reference"] in str(deadline["summary"]) and "Unterlagen fällig" in str(deadline["summary"])
    assert b"Testa" not in r.content  # no names in the feed

    # the authority's feed shows the submitted case too; a never-submitted case of the counselor does not
    hidden = await new_case(counselor)
    r = await liaison.get("/api/v1/calendar.ics")
    assert r.status_code == 200
    uids = [str(e["uid"]) for e in Calendar.from_ical(r.content).walk("VEVENT")]
    assert any(u.startswith(case["id"]) for u in uids) and not any(u.startswith(hidden["id"]) for u in uids)

    # rotating the token retires the old one; no token and no login is 401
    r = await counselor.post("/api/v1/calendar/feed-token")
    assert (await anonymous.get("/api/v1/calendar.ics", params={"token": token})).status_code == 401
    assert (await anonymous.get("/api/v1/calendar.ics", params={"token": r.json()["token"]})).status_code == 200
    assert (await anonymous.get("/api/v1/calendar.ics")).status_code == 401
