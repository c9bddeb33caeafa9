"""Two workers and two API processes against one Temporal server and PostgreSQL (see tests/deploy/conftest.py).

Cases are shared between the API processes, an Idempotency-Key applies once whichever process gets it,
and when a worker stops (SIGTERM) or dies (SIGKILL) its cases go on with the other one.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from rules.checklists import checklist
from tests.conftest import person
from tests.deploy.conftest import Cluster, Proc


class Client:
    """One user's HTTP client against one API process."""

    def __init__(self, api: Proc, token: str) -> None:
        self.name = api.name
        self.http = httpx.AsyncClient(base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    async def create(self) -> dict[str, Any]:
        body = {"person": person(), "consent_to_share": {"given": True, "date": "2026-11-02"}, "pathway": None}
        r = await self.http.post("/api/v1/cases", json=body)
        assert r.status_code == 201, f"{self.name}: {r.status_code} {r.text}"
        return dict(r.json())

    async def act(self, case_id: str, action: str, body: dict[str, Any] | None = None,
                  key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else {}
        r = await self.http.post(f"/api/v1/cases/{case_id}/actions/{action}", json=body or {}, headers=headers)
        assert r.status_code == 200, f"{self.name} {action}: {r.status_code} {r.text}"
        return dict(r.json())

    async def get(self, case_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/api/v1/cases/{case_id}")
        assert r.status_code == 200, f"{self.name}: {r.status_code} {r.text}"
        return dict(r.json())

    async def timeline(self, case_id: str) -> list[str]:
        r = await self.http.get(f"/api/v1/cases/{case_id}/timeline")
        assert r.status_code == 200, r.text
        return [e["action"] for e in r.json()]


@pytest.fixture(scope="module")
async def counselors(cluster: Cluster) -> AsyncIterator[tuple[Client, Client]]:
    """The same counselor, once through each API process."""
    token = cluster.create_user("counselor")
    a, b = (Client(p, token) for p in cluster.procs if p.name.startswith("api-"))
    yield a, b
    await a.http.aclose()
    await b.http.aclose()


@pytest.fixture(scope="module")
async def liaisons(cluster: Cluster) -> AsyncIterator[tuple[Client, Client]]:
    token = cluster.create_user("authority_liaison")
    a, b = (Client(p, token) for p in cluster.procs if p.name.startswith("api-"))
    yield a, b
    await a.http.aclose()
    await b.http.aclose()


def _workers(cluster: Cluster) -> list[Proc]:
    return [p for p in cluster.procs if p.name.startswith("worker-") and p.popen.poll() is None]


async def test_both_workers_are_alive_on_their_metrics_port(cluster: Cluster) -> None:
    """The worker's liveness probe (deploy/) is its SDK metrics endpoint."""
    async with httpx.AsyncClient(timeout=5) as http:
        for w in _workers(cluster):
            r = await http.get(f"http://127.0.0.1:{w.metrics_port}/metrics")
            assert r.status_code == 200 and "temporal_" in r.text, w.tail()


async def test_cases_are_shared_between_api_processes(counselors: tuple[Client, Client],
                                                      liaisons: tuple[Client, Client]) -> None:
    """Create through one API, act through the other, alternately; both read the same case."""
    c1, c2 = counselors
    l1, l2 = liaisons
    cases = [await (c1 if i % 2 == 0 else c2).create() for i in range(4)]
    for i, case in enumerate(cases):
        first, other = (c2, c1) if i % 2 == 0 else (c1, c2)  # act on the process that did not create it
        await first.act(case["id"], "complete_intake", {"pathway": "25b"})
        for n, doc in enumerate(checklist("25b")):
            await (other if n % 2 else first).act(case["id"], "record_document", {"type": doc, "state": "received"})
        await other.act(case["id"], "submit_to_authority")
        done = await (l1 if i % 2 else l2).act(case["id"], "acknowledge", {"file_number": f"ABH-{i}"})
        assert done["stage"] == "authority_review"
    for case in cases:
        seen = [await c.get(case["id"]) for c in (c1, c2)]
        assert seen[0] == seen[1]
        assert seen[0]["stage"] == "authority_review" and seen[0]["authority_file_number"]
        tl = await c1.timeline(case["id"])
        assert tl.count("record_document") == len(checklist("25b"))
        assert tl.count("acknowledge") == tl.count("submit_to_authority") == 1


async def test_one_idempotency_key_applies_once_across_apis(counselors: tuple[Client, Client]) -> None:
    c1, c2 = counselors
    case = await c1.create()
    await c2.act(case["id"], "complete_intake", {"pathway": "25b"})
    key = f"note-{uuid.uuid4()}"
    body = {"text": "Rückruf vereinbart", "visibility": "shared"}
    # at the same moment through both processes, then again through each
    a, b = await asyncio.gather(c1.act(case["id"], "add_note", body, key), c2.act(case["id"], "add_note", body, key))
    again = [await c.act(case["id"], "add_note", body, key) for c in (c2, c1)]
    assert a["updated_at"] == b["updated_at"] == again[0]["updated_at"] == again[1]["updated_at"]
    for c in (c1, c2):
        assert (await c.timeline(case["id"])).count("add_note") == 1


async def _progress(clients: tuple[Client, Client], case_ids: list[str], text: str, limit_s: float) -> None:
    """Every case takes one more action within `limit_s`, half through each API."""
    start = time.monotonic()
    for i, cid in enumerate(case_ids):
        await clients[i % 2].act(cid, "add_note", {"text": text, "visibility": "internal"})
    assert time.monotonic() - start < limit_s, f"took {time.monotonic() - start:.1f} s"
    for cid in case_ids:
        assert (await clients[0].timeline(cid)).count("add_note") >= 1


async def test_stopping_a_worker_moves_its_cases_to_the_other(cluster: Cluster,
                                                              counselors: tuple[Client, Client]) -> None:
    """SIGTERM: the worker drains and leaves; then SIGKILL of the next one: its sticky cases move after 2 s."""
    c1, c2 = counselors
    cases = [(await c.create())["id"] for c in (c1, c2, c1, c2, c1, c2)]
    for i, cid in enumerate(cases):  # every case now sits in some worker's cache
        await (c1, c2)[i % 2].act(cid, "complete_intake", {"pathway": "25b"})

    first, second = _workers(cluster)
    assert cluster.stop(first, signal.SIGTERM) == 0, first.tail()
    await _progress(counselors, cases, "nach SIGTERM", limit_s=60)
    new = [(await c.create())["id"] for c in (c1, c2)]  # new cases start on the remaining worker
    await _progress(counselors, new, "neu", limit_s=30)

    third = cluster.start_worker("worker-3")
    for api in (p for p in cluster.procs if p.name.startswith("api-")):
        cluster.wait_ready(api)
    await _progress(counselors, cases, "vor SIGKILL", limit_s=60)  # some cases now cached on worker-3
    assert cluster.stop(second, signal.SIGKILL) == -signal.SIGKILL
    await _progress(counselors, cases + new, "nach SIGKILL", limit_s=90)
    assert _workers(cluster) == [third]
    for cid in cases:
        tl = await c2.timeline(cid)
        assert tl.count("complete_intake") == 1
        assert tl.count("add_note") == 3  # each action applied exactly once, whichever worker ran it
