"""The ops board in pages: every finding exactly once, oldest first, whatever the page size (API.md "Ops")."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.ops_service import StuckCase, stuck_cases, stuck_page
from core.settings import Settings
from store.models import Case
from tests.api.ops_fixtures import plant_many, plant_user, private_database
from tests.conftest import Api, new_case

STAGES = ["intake", "document_collection", "authority_review", "joint_meeting", "decision"]


class MissingEverywhere:
    """A Temporal client whose describe finds no workflow: every open case becomes `workflow_missing`."""

    class Handle:
        async def describe(self, rpc_timeout: Any = None) -> Any:
            raise RPCError("not found", RPCStatusCode.NOT_FOUND, b"")

    def get_workflow_handle(self, cid: str) -> Handle:
        return self.Handle()


def _missed(kind: str, due: datetime) -> dict[str, Any]:
    return {"kind": kind, "due": due.date().isoformat(), "due_at": due.isoformat(), "remind_at": None,
            "state": "missed", "ref": None}


async def _plant(sessions: Any, settings: Settings) -> None:
    """60 open cases built for ties: seven share each entry time, some cases have two missed deadlines, and
    some have a missed deadline or their Temporal finding at exactly their stage-SLA time (same since, same
    case, another reason, before and after `stage_sla` in the order)."""
    now = datetime.now(UTC).replace(microsecond=0)
    sla = settings.stage_sla_days
    async with sessions() as s:
        creator = await plant_user(s)
        cases = []
        for i in range(60):
            stage = STAGES[i % 5]
            entered = now - timedelta(days=100 + i // 7)  # every one past its stage SLA, in groups of seven
            deadlines = []
            if i % 4 == 0:  # every third of them missed at the very moment the stage SLA ran out
                due = entered + timedelta(days=sla[stage] if i % 12 == 0 else 1)
                deadlines.append(_missed("document_due", due))
            if i % 8 == 0:
                deadlines.append(_missed("duldung_expiry", entered + timedelta(days=2)))
            updated = entered + timedelta(days=sla[stage]) if i % 3 == 0 else entered
            cases.append({"id": f"case-{i:02d}", "stage": stage, "stage_entered_at": entered, "updated_at": updated,
                          "deadlines": deadlines, "deadline_missed": bool(deadlines)})
        await plant_many(s, creator, cases)


async def _walk(sessions: Any, client: Any, settings: Settings, limit: int) -> tuple[list[StuckCase], set[int]]:
    items: list[StuckCase] = []
    totals: set[int] = set()
    cursor = None
    for _ in range(1000):
        async with sessions() as s:
            page = await stuck_page(s, client, settings, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        assert page.items or page.total == 0, "a page with a cursor to it is never empty"
        items += page.items
        totals.add(page.total)
        cursor = page.next_cursor
        if cursor is None:
            return items, totals
    raise AssertionError("the pages never end")


async def test_pages_cover_every_finding_once_in_order(tmp_path: Path, settings: Settings) -> None:
    client = MissingEverywhere()
    async with private_database(tmp_path) as (_url, sessions):
        await _plant(sessions, settings)
        async with sessions() as s:
            everything = await stuck_cases(s, client, settings)  # type: ignore[arg-type]
        reasons = {f.reason for f in everything}
        assert reasons == {"stage_sla", "missed_deadline", "workflow_missing"}
        assert len(everything) == 60 + 15 + 8 + 60
        keys = [(f.since, f.case_id, f.reason) for f in everything]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        assert len({k[:2] for k in keys}) < len(keys), "the data has findings that tie on since and case"
        for limit in (1, 2, 7, 13, 50, 1000):
            walked, totals = await _walk(sessions, client, settings, limit)
            assert walked == everything, f"limit {limit}: pages differ from the whole list"
            assert totals == {len(everything)}
        async with sessions() as s:  # without Temporal: the SQL reasons only, paged alike
            sql_only = await stuck_cases(s, None, settings)
        assert sql_only == [f for f in everything if f.reason != "workflow_missing"]
        assert (await _walk(sessions, None, settings, 4))[0] == sql_only


async def test_a_case_closed_since_the_scan_leaves_the_cached_findings(tmp_path: Path, settings: Settings) -> None:
    client = MissingEverywhere()
    async with private_database(tmp_path) as (_url, sessions):
        await _plant(sessions, settings)
        async with sessions() as s:
            before = await stuck_page(s, client, settings, max_age=None, limit=1000)  # type: ignore[arg-type]
            row = await s.get(Case, "case-07")
            assert row is not None
            row.stage, row.updated_at = "closed", datetime.now(UTC)
            await s.commit()
        async with sessions() as s:
            after = await stuck_page(s, client, settings, limit=1000)  # type: ignore[arg-type]
        assert any(f.case_id == "case-07" and f.reason == "workflow_missing" for f in before.items)
        assert [f for f in after.items if f.case_id == "case-07"] == []
        gone = sum(f.case_id == "case-07" for f in before.items)
        assert after.total == before.total - gone == len(after.items)


async def test_a_page_reads_only_its_share_of_stage_sla_rows(tmp_path: Path, settings: Settings) -> None:
    """5,000 cases past their stage SLA: the first page holds the 100 oldest and counts them all."""
    now = datetime.now(UTC)
    async with private_database(tmp_path) as (_url, sessions):
        cases = [{"id": f"case-{i:05d}", "stage": STAGES[i % 5],
                  "stage_entered_at": now - timedelta(days=300, minutes=i)} for i in range(5000)]
        async with sessions() as s:
            await plant_many(s, await plant_user(s), cases)
        async with sessions() as s:
            page = await stuck_page(s, None, settings, limit=100)
        assert page.total == 5000 and len(page.items) == 100 and page.next_cursor
        sla = settings.stage_sla_days
        oldest = sorted(cases, key=lambda c: (c["stage_entered_at"] + timedelta(days=sla[c["stage"]]), c["id"]))
        assert [f.case_id for f in page.items] == [c["id"] for c in oldest[:100]]


def _next(link: str | None) -> str | None:
    """The path and query of a `Link: <…>; rel="next"` header."""
    return link[link.index("/api/"):link.index(">")] if link else None


async def test_api_pages_with_link_header_and_rejects_bad_cursor(counselor: Api, ops: Api,
                                                                 dev_env: WorkflowEnvironment) -> None:
    for _ in range(3):  # three lost workflows: at least three findings
        cid = (await new_case(counselor))["id"]
        await dev_env.client.get_workflow_handle(cid).terminate("ops paging test: lost workflow")
    whole = await ops.get("/api/v1/ops/stuck?fresh=true&limit=1000")
    assert whole.status_code == 200, whole.text
    total = int(whole.headers["X-Total-Count"])
    assert total == len(whole.json()) >= 3 and "Link" not in whole.headers

    first = await ops.get("/api/v1/ops/stuck?limit=2")
    assert first.status_code == 200 and len(first.json()) == 2
    assert first.headers["X-Total-Count"] == str(total)
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    query = parse_qs(urlsplit(link[1:link.index(">")]).query)
    assert query["cursor"] == [first.headers["X-Next-Cursor"]] and query["limit"] == ["2"]
    walked, url = list(first.json()), _next(first.headers.get("Link"))
    while url:
        r = await ops.get(url)
        assert r.status_code == 200, r.text
        walked += r.json()
        url = _next(r.headers.get("Link"))
    assert walked == whole.json()

    def cursor(*parts: object) -> str:
        return "cursor=" + base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()

    for bad in ("cursor=nonsense", "cursor=W10=", "limit=0", "limit=1001", cursor(1, 2, 3),
                cursor("0001-01-01T00:00:00", "case-x", "stage_sla"), cursor("9999-12-31T23:59:59", "c", "r")):
        r = await ops.get(f"/api/v1/ops/stuck?{bad}")
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
