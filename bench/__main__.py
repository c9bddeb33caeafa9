"""`python -m bench`: creation rate, action latency, list/stuck queries and worker memory, as one table.

Each figure through the API is set against the same work done with the raw Temporal client in the same
run, on the same server and worker, so the ratio shows what the API layer costs. Its own Temporal dev
server, worker process and SQLite file; everything it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from bench.stack import BenchStack

Row = tuple[str, str, str, str]


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s)) - 1))]


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal:"))
    return f"{os.cpu_count()} CPUs ({cpu}), {mem / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}"


async def timed(n: int, concurrency: int, fn: Callable[[int], Awaitable[Any]]) -> tuple[float, list[float]]:
    """Run fn(0..n-1) with `concurrency` at once; (wall seconds, per-call latencies)."""
    sem = asyncio.Semaphore(concurrency)
    lat: list[float] = []

    async def one(i: int) -> None:
        async with sem:
            t = time.perf_counter()
            await fn(i)
            lat.append(time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - start, lat


def person(i: int | str) -> dict[str, Any]:
    return {
        "reference": f"B-{uuid.uuid4().hex[:12]}", "given_name": "Bench", "family_name": f"Person {i}",
        "birth_date": "1990-04-17", "nationality": "AFG", "entry_date": "2016-09-01",
        "duldung_since": "2017-03-10", "duldung_valid_until": "2027-06-30", "duldung_type": "regular",
        "minor_children": 0, "language_level": "A2",
        "school": {"attending": False, "years_successful": 0, "qualification": None},
        "employment": {"employed": True, "hours_per_week": 38, "since": "2021-05-01"},
        "livelihood_secured": "largely", "identity_clarified": True, "passport_status": "valid",
        "civic_test_passed": True, "criminal_record": {"convicted": False, "day_fines": 0},
    }


class Bench:
    def __init__(self, stack: BenchStack, args: argparse.Namespace) -> None:
        self.stack = stack
        self.args = args
        self.settings = stack.settings()
        self.rows: list[Row] = []

    def row(self, what: str, api: str, raw: str, ratio: str) -> None:
        self.rows.append((what, api, raw, ratio))
        print(f"  {what}: {api} | {raw} | {ratio}", flush=True)

    async def run(self) -> None:
        from api.app import create_app
        from core.temporal import connect
        from store.db import make_engine, make_sessionmaker
        from store.users import create_user

        self.client = await connect(self.settings)
        self.engine = make_engine(self.settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        async with self.sessions() as s:
            self.counselor, token = await create_user(s, name="bench-counselor", role="counselor", unit="dresden")
            self.liaison, ltoken = await create_user(s, name="bench-liaison", role="authority_liaison", unit="dresden")
            self.ops, otoken = await create_user(s, name="bench-ops", role="ops", unit=None)
            await s.commit()
        app = create_app(self.settings, temporal_client=self.client)
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                self.http = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120,
                                              headers={"Authorization": f"Bearer {token}"})
                self.lhttp = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120,
                                               headers={"Authorization": f"Bearer {ltoken}"})
                self.ohttp = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120,
                                               headers={"Authorization": f"Bearer {otoken}"})
                await self.wait_worker()
                await self.creation()
                await self.actions()
                for n in self.args.open:
                    await self.queries(n)
                await self.memory()
        finally:
            await self.engine.dispose()

    async def wait_worker(self) -> None:
        """The first case through the API projected: the worker is up."""
        r = await self.http.post("/api/v1/cases", json=self.case_body(0))
        r.raise_for_status()
        cid = r.json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = await self.http.post(f"/api/v1/cases/{cid}/actions/add_note",
                                     json={"text": "warm", "visibility": "shared"})
            if r.status_code == 200:
                return
            await asyncio.sleep(0.5)
        raise RuntimeError("the worker did not answer within 60 s")

    def case_body(self, i: int) -> dict[str, Any]:
        return {"person": person(i), "consent_to_share": {"given": True, "date": "2026-11-02"}, "pathway": None}

    def raw_input(self, case_id: str) -> Any:
        from api.casework import actor_of, timer_config
        from schemas.case import CaseWorkflowInput

        return CaseWorkflowInput(case_id=case_id, unit="dresden", created_by=actor_of(self.counselor),
                                 consent_given=True, duldung_valid_until=date(2027, 6, 30),
                                 config=timer_config(self.settings))

    async def api_create(self, i: int) -> str:
        r = await self.http.post("/api/v1/cases", json=self.case_body(i))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def raw_create(self, i: int) -> str:
        cid = f"case-{uuid.uuid4()}"
        await self.client.start_workflow("CaseWorkflow", self.raw_input(cid), id=cid,
                                         task_queue=self.settings.task_queue)
        return cid

    async def creation(self) -> None:
        n, c = self.args.create, self.args.concurrency
        print(f"creation: {n} cases each way, {c} at once", flush=True)
        await timed(20, c, self.api_create)  # warm-up, both paths
        await timed(20, c, self.raw_create)
        # Alternating halves: the worker's projections of one batch overlap the next batch on both sides alike.
        api_s = raw_s = 0.0
        for half in (n // 2, n - n // 2):
            api_s += (await timed(half, c, self.api_create))[0]
            raw_s += (await timed(half, c, self.raw_create))[0]
        api_rate, raw_rate = n / api_s, n / raw_s
        await self.drain()
        self.row(f"cases created / s ({c} concurrent clients)", f"{api_rate:.0f} /s", f"{raw_rate:.0f} /s",
                 f"{api_rate / raw_rate:.2f} (target ≥ 0.8)")

    async def drain(self) -> None:
        """Wait until the worker has projected every case started so far (its backlog would skew what follows)."""
        from store.models import AuditEvent, Case

        while True:
            async with self.sessions() as s:
                pending = int(await s.scalar(select(func.count()).select_from(Case).where(Case.last_seq < 0)) or 0)
                started = len(await self.open_workflows())
                projected = int(await s.scalar(select(func.count()).select_from(AuditEvent)
                                               .where(AuditEvent.action == "create_case")) or 0)
            if pending == 0 and projected >= started:
                return
            await asyncio.sleep(1)

    async def actions(self) -> None:
        from schemas.case import CaseState, RecordDocumentInput

        n = self.args.actions
        print(f"action latency: {n} record_document each way, one at a time", flush=True)
        api_cases = [await self.api_create(i) for i in range(5)]
        raw_cases = [await self.api_create(i) for i in range(5)]  # same kind of case, acted on directly
        for cid in api_cases + raw_cases:
            r = await self.http.post(f"/api/v1/cases/{cid}/actions/complete_intake", json={"pathway": "25b"})
            assert r.status_code == 200, r.text
        actor = {"user_id": self.counselor.id, "role": "counselor", "institution": "counseling", "unit": "dresden"}
        api_lat: list[float] = []
        raw_lat: list[float] = []
        for i in range(n + 10):  # interleaved, so both see the same server load; the first 10 warm up
            state = ("received", "verified")[i % 2]
            t = time.perf_counter()
            r = await self.http.post(f"/api/v1/cases/{api_cases[i % 5]}/actions/record_document",
                                     json={"type": "passport", "state": state})
            assert r.status_code == 200, r.text
            t2 = time.perf_counter()
            await self.client.get_workflow_handle(raw_cases[i % 5]).execute_update(
                "record_document", RecordDocumentInput.model_validate({"actor": actor, "type": "passport",
                                                                       "state": state}),
                id=f"bench-{uuid.uuid4()}", result_type=CaseState)
            t3 = time.perf_counter()
            if i >= 10:
                api_lat.append(t2 - t)
                raw_lat.append(t3 - t2)
        for q in (50, 99):
            a, b = pct(api_lat, q), pct(raw_lat, q)
            self.row(f"action latency p{q} (record_document)", ms(a), ms(b), f"{a / b:.2f} (target ≤ 1.3)")

    async def fill(self, total: int) -> None:
        """Insert read-model rows (open cases in every stage) up to `total` cases, straight into SQL."""
        from store.models import Case, Person

        async with self.sessions() as s:
            have = int(await s.scalar(select(func.count()).select_from(Case)) or 0)
            now = datetime.now(UTC)
            stages = ["intake", "document_collection", "authority_review", "joint_meeting", "decision"]
            batch_people: list[dict[str, Any]] = []
            batch_cases: list[dict[str, Any]] = []
            for i in range(have, total):
                pid = str(uuid.uuid4())
                ref = f"F-{uuid.uuid4().hex[:12]}"
                entered = now - timedelta(days=i % 200, minutes=i)
                missed = i % 50 == 0
                due = now - timedelta(days=3) if missed else now + timedelta(days=30 + i % 60)
                deadline = {"kind": "document_due", "due": due.date().isoformat(), "due_at": due.isoformat(),
                            "remind_at": None, "state": "missed" if missed else "pending", "ref": None}
                batch_people.append({"id": pid, "reference": ref, "given_name": "Fill", "family_name": f"P{i}",
                                     "birth_date": date(1990, 1, 1), "profile": person(i)})
                batch_cases.append({
                    "id": f"case-{uuid.uuid4()}", "person_id": pid, "reference": ref, "unit": "dresden",
                    "created_by": self.counselor.id, "stage": stages[i % 5], "status": "active", "pathway": "25b",
                    "consent_given": True, "submitted_at": entered if i % 5 >= 2 else None,
                    "deadlines": [deadline], "documents": [], "next_deadline": None if missed else due,
                    "deadline_missed": missed,
                    "stage_entered_at": entered, "created_at": entered, "updated_at": entered, "last_seq": 0,
                })
                if len(batch_cases) == 1000:
                    await s.execute(insert(Person), batch_people)
                    await s.execute(insert(Case), batch_cases)
                    batch_people, batch_cases = [], []
            if batch_cases:
                await s.execute(insert(Person), batch_people)
                await s.execute(insert(Case), batch_cases)
            await s.commit()

    async def queries(self, total: int) -> None:
        from api import ops_service

        await self.fill(total)
        runs = self.args.query_runs
        print(f"queries at {total} open cases: {runs} runs each", flush=True)

        async def get(http: httpx.AsyncClient, url: str) -> None:
            r = await http.get(url)
            assert r.status_code == 200, r.text

        async def every_finding(client: Any, max_age: Any = ops_service.SCAN_MAX_AGE) -> int:
            async with self.sessions() as s:
                return len(await ops_service.stuck_cases(s, client, self.settings, max_age=max_age))

        async def first_page() -> int:
            async with self.sessions() as s:
                return len((await ops_service.stuck_page(s, None, self.settings)).items)

        # (label, call, runs, held to the p99 target): the target is for what users wait for.
        checks: list[tuple[str, Callable[[], Awaitable[Any]], int, bool]] = [
            ("GET /cases?limit=50 (counselor)", lambda: get(self.http, "/api/v1/cases?limit=50"), runs, True),
            ("GET /cases?stage=authority_review (liaison)",
             lambda: get(self.lhttp, "/api/v1/cases?stage=authority_review&limit=50"), runs, True),
            # The ops board as served: the 100 oldest findings (SQL fresh + the last Temporal scan, <= 30 s old).
            ("GET /ops/stuck (first page of 100, cached scan)", lambda: get(self.ohttp, "/api/v1/ops/stuck"), runs,
             True),
            ("ops stuck_page, SQL reasons, first page of 100", first_page, runs, True),
            # Every finding at once (`bleibe ops stuck`): grows with the number of stuck cases.
            ("ops stuck_cases, every finding, SQL reasons (CLI)", lambda: every_finding(None), runs, False),
            # A full scan describes every open workflow: one RPC per open case, so only a few runs. It runs
            # behind the board (at most every 30 s), or when asked with ?fresh=true.
            ("ops stuck_cases, fresh Temporal scan (background)", lambda: every_finding(self.client, None), 3,
             False),
        ]
        async def list_during_scan() -> None:
            """The same list request while a full Temporal scan runs in the API process (every 30 s at most)."""
            scan = asyncio.create_task(every_finding(self.client, None))
            await asyncio.sleep(0.5)  # the scan is describing by now
            lat = []
            while not scan.done():
                t = time.perf_counter()
                await get(self.http, "/api/v1/cases?limit=50")
                lat.append(time.perf_counter() - t)
            await scan
            self.row(f"GET /cases?limit=50 during a full Temporal scan @ {total}",
                     f"p50 {ms(pct(lat, 50))}, p99 {ms(pct(lat, 99))} ({len(lat)} requests)", "–",
                     "no target" if total >= 10_000 else "")

        stuck = await self.ohttp.get("/api/v1/ops/stuck")
        print(f"  stuck findings at {total}: {stuck.headers['X-Total-Count']}", flush=True)
        for label, fn, n, target in checks:
            await fn()
            lat = []
            for _ in range(n):
                t = time.perf_counter()
                await fn()
                lat.append(time.perf_counter() - t)
            goal = ("target p99 < 100 ms" if target else "no target") if total >= 10_000 else ""
            self.row(f"{label} @ {total}", f"p50 {ms(pct(lat, 50))}, p99 {ms(pct(lat, 99))}", "–", goal)
        await list_during_scan()

    async def memory(self) -> None:
        from store.models import AuditEvent

        n = self.args.memory
        if not n:
            return
        print(f"worker memory: starting {n} case workflows", flush=True)
        before = self.stack.worker_rss_mib()
        async with self.sessions() as s:
            base = int(await s.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.action == "create_case")) or 0)
        start = time.perf_counter()
        await timed(n, 50, self.raw_create)
        while True:  # every new workflow has run its first task and projection
            async with self.sessions() as s:
                done = int(await s.scalar(select(func.count()).select_from(AuditEvent)
                                          .where(AuditEvent.action == "create_case")) or 0) - base
            if done >= n:
                break
            await asyncio.sleep(1)
        took = time.perf_counter() - start
        after = self.stack.worker_rss_mib()
        total = len(await self.open_workflows())
        per_case = (after - before) / n
        cached = min(10_000, self.settings.worker_max_cached_workflows)
        self.row(f"worker RSS, {total} open workflows (cache {self.settings.worker_max_cached_workflows})",
                 f"{after:.0f} MiB (before the starts {before:.0f} MiB; +{per_case * 1024:.0f} KiB per start)",
                 f"{n} started + projected in {took:.0f} s",
                 f"10,000 open: ≈ {before + per_case * cached:.0f} MiB (≤ {cached} cached)" if n < 10_000 else "")

    async def open_workflows(self) -> list[str]:
        ids = []
        async for w in self.client.list_workflows("WorkflowType = 'CaseWorkflow' AND ExecutionStatus = 'Running'"):
            ids.append(w.id)
        return ids


def table(rows: list[Row]) -> str:
    head = ("measure", "through the API", "raw Temporal", "ratio / target")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return "\n".join([line, sep, *body])


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--create", type=int, default=600, help="cases created each way (default 600)")
    p.add_argument("--concurrency", type=int, default=10, help="concurrent clients when creating (default 10)")
    p.add_argument("--actions", type=int, default=100, help="actions timed each way (default 100)")
    p.add_argument("--open", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 10000],
                   help="open-case counts for the query benchmark (default 1000,10000)")
    p.add_argument("--query-runs", type=int, default=100, help="runs per query (default 100)")
    # 10,000 starts take ~8 min on 2 cores (the one worker projects ~20 new cases/s).
    p.add_argument("--memory", type=int, default=10_000, help="workflows started for the memory figure (0: skip)")
    p.add_argument("--database-url", default=None, help="another database than a fresh SQLite file")
    args = p.parse_args()
    os.environ.setdefault("BLEIBE_LOG_LEVEL", "WARNING")
    stack = BenchStack(database_url=args.database_url)
    print(f"machine: {machine()}", flush=True)
    print(f"stack: Temporal dev server {stack.address}, SQLite in {stack.tmp}", flush=True)
    bench = Bench(stack, args)
    try:
        stack.start()
        bench.settings = stack.settings()
        asyncio.run(bench.run())
    finally:
        stack.close()
    print()
    print(f"machine: {machine()}")
    print(table(bench.rows))
    return 0


if __name__ == "__main__":
    # The Temporal core runtime can abort the interpreter at exit (sdk-python#300): leave with our status.
    status = main()
    import sys

    sys.stdout.flush()
    os._exit(status)
