"""`bleibe ops stuck` and `bleibe ops repair` as subprocesses against the test database and dev server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from store.models import AuditEvent
from tests.conftest import CODEC_KEYS, Api, new_case

BLEIBE = str(Path(sys.executable).parent / "bleibe")


async def bleibe(args: list[str], settings: Settings, dev_env: WorkflowEnvironment,
                 tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "BLEIBE_DATA_DIR": str(tmp_path),
           "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host, "BLEIBE_CODEC_KEYS": CODEC_KEYS,
           "BLEIBE_TASK_QUEUE": settings.task_queue, "BLEIBE_LOG_FORMAT": "json"}
    # In a thread: the test's own worker must keep serving the workflow the command queries.
    return await asyncio.to_thread(subprocess.run, [BLEIBE, *args], env=env, capture_output=True, text=True,
                                   timeout=120)


async def test_cli_lists_and_repairs_a_lost_workflow(counselor: Api, dev_env: WorkflowEnvironment,
                                                     settings: Settings, sessions: Any, tmp_path: Path) -> None:
    case = await new_case(counselor)
    cid = case["id"]
    await dev_env.client.get_workflow_handle(cid).terminate("cli test: lost workflow")
    out = await bleibe(["ops", "stuck", "--json"], settings, dev_env, tmp_path)
    assert out.returncode == 0, out.stderr
    found = [s for s in json.loads(out.stdout) if s["case_id"] == cid]
    assert [s["reason"] for s in found] == ["workflow_missing"] and found[0]["reference"] == case["reference"]
    lines = await bleibe(["ops", "stuck"], settings, dev_env, tmp_path)
    assert lines.returncode == 0 and any(cid in line and "workflow_missing" in line
                                         for line in lines.stdout.splitlines())

    out = await bleibe(["ops", "repair", cid], settings, dev_env, tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["mode"] == "restarted", out.stdout
    out = await bleibe(["ops", "repair", cid], settings, dev_env, tmp_path)
    assert json.loads(out.stdout)["mode"] == "reprojected"
    assert (await dev_env.client.get_workflow_handle(cid).describe()).status == WorkflowExecutionStatus.RUNNING
    async with sessions() as s:
        audit = (await s.scalars(select(AuditEvent).where(AuditEvent.case_id == cid,
                                                          AuditEvent.action == "repair_case"))).all()
    assert [(e.role, e.actor_id) for e in audit] == [("cli", None), ("cli", None)]

    missing = await bleibe(["ops", "repair", "case-does-not-exist"], settings, dev_env, tmp_path)
    assert missing.returncode == 1 and "Fall nicht gefunden" in missing.stderr


async def test_users_create_with_email(settings: Settings, dev_env: WorkflowEnvironment, sessions: Any,
                                       tmp_path: Path) -> None:
    from store.models import User

    name = f"mail-{os.getpid()}-{id(tmp_path)}"
    out = await bleibe(["users", "create", "--name", name, "--role", "counselor", "--unit", "dd",
                        "--email", "anna@beratung.example"], settings, dev_env, tmp_path)
    assert out.returncode == 0, out.stderr
    async with sessions() as s:
        assert await s.scalar(select(User.email).where(User.name == name)) == "anna@beratung.example"
    bad = await bleibe(["users", "create", "--name", name + "x", "--role", "counselor", "--email", "kein at"],
                       settings, dev_env, tmp_path)
    assert bad.returncode == 1 and "not an e-mail address" in bad.stderr
