"""The whole permission matrix over HTTP: every role × action × stage answers as rules.lifecycle predicts.

For each combination the API must answer 404 (the role's institution cannot see the case), 403 (the
role may never do this), 409 (not in this stage) or 200 — exactly as `can_see` and `check` say. Cases
are brought into each stage through the API; actions that change the stage or the visibility get a
fresh case, the others share one case per stage.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from rules.lifecycle import ACTIONS, ALL_STAGES, ROLE_INSTITUTION, Role, Stage, Verdict, can_see, check
from tests.conftest import Api, complete_checklist, new_case

# Actions whose success changes the case's stage or its visibility: each allowed try needs its own case.
CHANGING = frozenset({"complete_intake", "submit_to_authority", "request_documents", "refer_to_meeting",
                      "prepare_decision", "decide", "withdraw", "revoke_consent"})


def bodies() -> dict[str, dict[str, Any]]:
    today = date.today()
    return {
        "complete_intake": {"pathway": "25b"},
        "record_document": {"type": "passport", "state": "received"},
        "submit_to_authority": {},
        "acknowledge": {"file_number": "ABH-MATRIX"},
        "request_documents": {"documents": ["passport"], "due": (today + timedelta(days=30)).isoformat()},
        "refer_to_meeting": {"reason": "Matrix"},
        "prepare_decision": {},
        "decide": {"outcome": "refused", "reason": "Matrix", "notified_on": today.isoformat()},
        "record_interim": {"kind": "duldung_extended", "valid_until": (today + timedelta(days=180)).isoformat()},
        "withdraw": {"reason": "Matrix"},
        "add_note": {"text": "Matrix", "visibility": "shared"},
        "revoke_consent": {"reason": "Matrix"},
    }


async def case_in(stage: Stage, counselor: Api, liaison: Api) -> dict[str, Any]:
    """A fresh case brought into `stage` the usual way (submitted from authority_review on)."""
    case = await new_case(counselor)
    if stage is Stage.INTAKE:
        return case
    await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    case = await complete_checklist(counselor, (await counselor.get(f"/api/v1/cases/{case['id']}")).json())
    if stage is Stage.DOCUMENT_COLLECTION:
        return case
    case = await counselor.act(case["id"], "submit_to_authority")
    if stage is Stage.AUTHORITY_REVIEW:
        return case
    if stage is Stage.JOINT_MEETING:
        return await liaison.act(case["id"], "refer_to_meeting", {"reason": "Matrix"})
    case = await liaison.act(case["id"], "prepare_decision")
    if stage is Stage.DECISION:
        return case
    # closed by a refusal: the workflow stays for the appeal period, so closed-stage actions reach it
    return await liaison.act(case["id"], "decide", bodies()["decide"])


def expected(role: Role, action: str, stage: Stage, case: dict[str, Any]) -> int:
    institution = ROLE_INSTITUTION[role].value
    if not can_see(institution, consent_given=case["consent_given"], submitted=case["submitted_at"] is not None):
        return 404
    verdict = check(role.value, institution, action, stage.value)
    return {Verdict.FORBIDDEN: 403, Verdict.WRONG_STAGE: 409, Verdict.ALLOWED: 200}[verdict]


async def test_every_role_action_stage_answers_as_the_table_says(counselor: Api, liaison: Api, lead: Api,
                                                                ops: Api) -> None:
    apis = {Role.COUNSELOR: counselor, Role.AUTHORITY_LIAISON: liaison, Role.AUTHORITY_LEAD: lead, Role.OPS: ops}
    body = bodies()
    limit = asyncio.Semaphore(6)

    async def prepared(stage: Stage) -> dict[str, Any]:
        async with limit:
            return await case_in(stage, counselor, liaison)

    shared_list = await asyncio.gather(*(prepared(stage) for stage in ALL_STAGES))
    shared = dict(zip(ALL_STAGES, shared_list, strict=True))
    plan = [(stage, role, action, expected(role, action, stage, shared[stage]))
            for stage in ALL_STAGES for role in apis for action in ACTIONS]
    needs_fresh = [(stage, role, action) for stage, role, action, want in plan if want == 200 and action in CHANGING]
    fresh_list = await asyncio.gather(*(prepared(stage) for stage, _, _ in needs_fresh))
    fresh = dict(zip(needs_fresh, fresh_list, strict=True))
    seen: dict[int, int] = {}
    mismatches: list[str] = []
    for stage in ALL_STAGES:
        for role, api in apis.items():
            # Reading follows the same visibility rule.
            r = await api.get(f"/api/v1/cases/{shared[stage]['id']}")
            want_read = 404 if expected(role, "add_note", stage, shared[stage]) == 404 else 200
            if r.status_code != want_read:
                mismatches.append(f"GET {role}/{stage}: {r.status_code} != {want_read}")
    async def attempt(stage: Stage, role: Role, action: str, want: int) -> None:
        api = apis[role]
        target = fresh.get((stage, role, action), shared[stage])
        r = await api.post(f"/api/v1/cases/{target['id']}/actions/{action}", json=body[action])
        seen[want] = seen.get(want, 0) + 1
        if r.status_code != want:
            mismatches.append(f"{role}/{action}/{stage}: {r.status_code} != {want} {r.text[:160]}")
            return
        assert r.headers["content-type"] == ("application/json" if want == 200 else "application/problem+json")
        if want == 409:
            problem = r.json()
            assert problem["current_stage"] == stage.value
            assert action not in problem["allowed_actions"]
        if want == 200:
            assert action in (await api.get(f"/api/v1/cases/{target['id']}/timeline")).text

    async def run_on_shared(stage: Stage) -> None:
        # One shared case at a time per stage (its actions must not race); stages run side by side.
        for st, role, action, want in plan:
            if st is stage and (st, role, action) not in fresh:
                await attempt(st, role, action, want)

    async def run_fresh(key: tuple[Stage, Role, str]) -> None:
        async with limit:
            await attempt(*key, 200)

    await asyncio.gather(*(run_on_shared(stage) for stage in ALL_STAGES), *(run_fresh(k) for k in fresh))
    assert not mismatches, "\n".join(mismatches)
    # every kind of answer occurred, over the whole 4 × 12 × 6 matrix
    assert len(plan) == len(apis) * len(ACTIONS) * len(ALL_STAGES) == 288
    assert set(seen) == {200, 403, 404, 409}, seen
