"""The whole embedded stack (`bleibe run`, as `make run`) stopped and started on the same data folder.

Open cases keep their stage and their workflows still take actions; a document deadline that fell due
while everything was down fires after the restart (deadline `missed`, case `overdue`).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from core.temporal import free_port
from rules.checklists import checklist
from tests.conftest import person
from tests.reliability.conftest import BIN, Fleet, Proc, base_env, wait_http_ready
from tests.reliability.helpers import eventually


class Http:
    """One user's client against the running stack."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    async def create(self) -> dict[str, Any]:
        body = {"person": person(), "consent_to_share": {"given": True, "date": "2026-11-02"}, "pathway": None}
        r = await self.http.post("/api/v1/cases", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def act(self, case_id: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = await self.http.post(f"/api/v1/cases/{case_id}/actions/{action}", json=body or {})
        assert r.status_code == 200, f"{action}: {r.status_code} {r.text}"
        return dict(r.json())

    async def get(self, case_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/api/v1/cases/{case_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def timeline(self, case_id: str) -> list[str]:
        r = await self.http.get(f"/api/v1/cases/{case_id}/timeline")
        assert r.status_code == 200, r.text
        return [e["action"] for e in r.json()]


def _create_user(env: dict[str, str], role: str) -> str:
    done = subprocess.run([str(BIN / "bleibe"), "users", "create", "--name", f"{role}-restart", "--role", role,
                           "--unit", "dresden"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


async def _start(fleet: Fleet, env: dict[str, str], name: str) -> Proc:
    stack = fleet.spawn(name, [str(BIN / "bleibe"), "run"], env)
    await wait_http_ready(f"http://127.0.0.1:{env['BLEIBE_PORT']}", stack)
    return stack


async def test_stack_restart_keeps_stages_and_fires_a_deadline_that_fell_due_while_down(fleet: Fleet,
                                                                                          tmp_path: Path) -> None:
    env = base_env(BLEIBE_DATA_DIR=str(tmp_path / "var"), BLEIBE_PORT=str(free_port()),
                   BLEIBE_TEMPORAL_PORT=str(free_port()), BLEIBE_TEMPORAL_UI_PORT=str(free_port()),
                   BLEIBE_WORKER_SHUTDOWN_GRACE_SECONDS="2")
    url = f"http://127.0.0.1:{env['BLEIBE_PORT']}"
    stack = await _start(fleet, env, "stack-1")
    counselor = Http(url, _create_user(env, "counselor"))
    liaison = Http(url, _create_user(env, "authority_liaison"))
    try:
        waiting = await counselor.create()  # stays in document_collection
        await counselor.act(waiting["id"], "complete_intake", {"pathway": "25b"})
        reviewed = await counselor.create()  # goes to the authority, which asks for more
        await counselor.act(reviewed["id"], "complete_intake", {"pathway": "25b"})
        for doc in checklist("25b"):
            await counselor.act(reviewed["id"], "record_document", {"type": doc, "state": "received"})
        await counselor.act(reviewed["id"], "submit_to_authority")
        due_at = datetime.now(UTC) + timedelta(seconds=6)
        requested = await liaison.act(reviewed["id"], "request_documents",
                                      {"documents": ["payslips"], "due_at": due_at.isoformat()})
        assert requested["stage"] == "document_collection" and requested["status"] == "active"
        assert [d["state"] for d in requested["deadlines"] if d["kind"] == "document_due"] == ["pending"]

        assert stack.stop(signal.SIGINT, timeout=30) == 0, stack.tail()
        # Everything is down while the deadline passes.
        await asyncio.sleep(max(0.0, (due_at - datetime.now(UTC)).total_seconds()) + 1)
        assert datetime.now(UTC) > due_at

        stack = await _start(fleet, env, "stack-2")
        assert (await counselor.get(waiting["id"]))["stage"] == "document_collection"

        async def missed() -> dict[str, Any] | None:
            case = await counselor.get(reviewed["id"])
            states = [d["state"] for d in case["deadlines"] if d["kind"] == "document_due"]
            return case if states == ["missed"] else None

        case = await eventually(missed, timeout=60)
        assert case["stage"] == "document_collection" and case["status"] == "overdue"
        assert (await counselor.timeline(reviewed["id"])).count("deadline_missed") == 1
        # The workflows are alive after the restart: both cases still take actions.
        start = time.monotonic()
        noted = await counselor.act(waiting["id"], "add_note", {"text": "nach Neustart", "visibility": "shared"})
        assert noted["stage"] == "document_collection"
        done = await counselor.act(reviewed["id"], "record_document", {"type": "payslips", "state": "received"})
        assert [d["state"] for d in done["documents"] if d["type"] == "payslips"] == ["received"]
        assert time.monotonic() - start < 60
    finally:
        await counselor.http.aclose()
        await liaison.http.aclose()
