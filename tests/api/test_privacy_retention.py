"""Retention deletes closed cases' personal data (statistics stay); export-person (GDPR Art. 15) is audited."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from temporalio.testing import WorkflowEnvironment

from activities.retention import delete_expired, ensure_retention_schedule, pseudonym
from cli.gdpr import export_person
from core.settings import Settings
from schemas.retention import RETENTION_SCHEDULE, DeletePersonalDataInput, RetentionResult, RetentionWorkflowInput
from store.models import AuditEvent, Case, Note, Person
from tests.conftest import Api, new_case


async def closed_case(counselor: Api, liaison: Api, mark: str) -> dict[str, Any]:
    from tests.api.test_privacy_visibility import submitted_case

    case = await submitted_case(counselor)
    await counselor.act(case["id"], "add_note", {"text": f"Notiz {mark}", "visibility": "internal"})
    await liaison.act(case["id"], "add_note", {"text": f"ABH intern {mark}", "visibility": "internal"})
    return await liaison.act(case["id"], "decide", {"outcome": "refused", "reason": f"Grund {mark}",
                                                   "notified_on": datetime.now(UTC).date().isoformat()})


async def age(sessions: Any, case_id: str, days: int) -> None:
    async with sessions() as s:
        await s.execute(update(Case).where(Case.id == case_id)
                        .values(closed_at=datetime.now(UTC) - timedelta(days=days)))
        await s.commit()


async def test_retention_deletes_personal_data_and_keeps_statistics(counselor: Api, liaison: Api,
                                                                    sessions: Any) -> None:
    old = await closed_case(counselor, liaison, mark := uuid.uuid4().hex)
    recent = await closed_case(counselor, liaison, uuid.uuid4().hex)
    await age(sessions, old["id"], 400)
    await age(sessions, recent["id"], 30)
    cut = DeletePersonalDataInput(closed_before=datetime.now(UTC) - timedelta(days=365), limit=1000)
    result = await delete_expired(sessions, cut)
    assert old["id"] in result.case_ids and recent["id"] not in result.case_ids
    assert (await delete_expired(sessions, cut)).case_ids == []  # idempotent: nothing twice
    async with sessions() as s:
        row = await s.get(Case, old["id"])
        assert row is not None and row.personal_data_deleted_at is not None
        person = await s.get(Person, row.person_id)
        assert person is not None
        assert (person.given_name, person.family_name, person.birth_date, person.profile) == (None, None, None, {})
        assert person.reference == row.reference == pseudonym(row.person_id) != old["reference"]
        assert row.authority_file_number is None
        texts = (await s.scalars(select(Note.text).where(Note.case_id == old["id"]))).all()
        assert len(texts) >= 3 and set(texts) == {None}
        # pseudonymous statistics remain
        assert (row.stage, row.pathway, row.outcome) == ("closed", "25b", "refused")
        assert row.created_at is not None and row.closed_at is not None and row.submitted_at is not None
        audit = await s.scalar(select(AuditEvent).where(AuditEvent.case_id == old["id"],
                                                        AuditEvent.action == "personal_data_deleted"))
        assert audit is not None and audit.role == "system"
        kept = await s.get(Case, recent["id"])
        assert kept is not None and kept.personal_data_deleted_at is None and kept.reference == recent["reference"]
    # the API still shows the case, without the person
    view = (await counselor.get(f"/api/v1/cases/{old['id']}")).json()
    assert view["reference"].startswith("DEL-") and view["outcome"] == "refused"
    timeline = (await counselor.get(f"/api/v1/cases/{old['id']}/timeline")).text
    assert mark not in timeline


async def test_retention_workflow_runs_on_the_worker(counselor: Api, liaison: Api, sessions: Any,
                                                     dev_env: WorkflowEnvironment, settings: Settings) -> None:
    case = await closed_case(counselor, liaison, uuid.uuid4().hex)
    await age(sessions, case["id"], 40)
    result = await dev_env.client.execute_workflow(
        "RetentionWorkflow", RetentionWorkflowInput(retention_days=30, batch_size=1), id=f"retention-{uuid.uuid4()}",
        task_queue=settings.task_queue, result_type=RetentionResult)
    assert result.deleted >= 1
    async with sessions() as s:
        row = await s.get(Case, case["id"])
        assert row is not None and row.personal_data_deleted_at is not None


async def test_retention_schedule_is_created_once_and_daily(dev_env: WorkflowEnvironment, settings: Settings) -> None:
    sid = f"{RETENTION_SCHEDULE}-{uuid.uuid4().hex[:6]}"
    try:
        assert await ensure_retention_schedule(dev_env.client, settings, sid) == "created"
        assert await ensure_retention_schedule(dev_env.client, settings, sid) == "updated"
        desc = await dev_env.client.get_schedule_handle(sid).describe()
        assert desc.schedule.spec.intervals[0].every == timedelta(days=1)
        assert desc.schedule.action.workflow == "RetentionWorkflow"  # type: ignore[attr-defined]
    finally:
        await dev_env.client.get_schedule_handle(sid).delete()


async def test_export_person_gives_the_counseling_view_and_is_audited(counselor: Api, liaison: Api, sessions: Any,
                                                                      settings: Settings) -> None:
    mark = uuid.uuid4().hex
    case = await new_case(counselor, given_name=f"Amina{mark[:6]}")
    cid = case["id"]
    await counselor.act(cid, "complete_intake", {"pathway": "25b"})
    await counselor.act(cid, "add_note", {"text": f"eigene {mark}", "visibility": "internal"})
    async with sessions() as s:
        data = await export_person(s, case["reference"])
        await s.commit()
    assert data["person"]["given_name"] == f"Amina{mark[:6]}" and data["person"]["reference"] == case["reference"]
    [exported] = data["cases"]
    assert exported["id"] == cid and exported["stage"] == "document_collection" and exported["documents"]
    assert [n["text"] for n in exported["notes"]] == [f"eigene {mark}"]
    assert {"create_case", "complete_intake", "add_note"} <= {e["action"] for e in exported["timeline"]}
    # through the command line, while the service runs; the authority's internal note is not disclosed
    from tests.api.test_privacy_visibility import submitted_case

    other = await submitted_case(counselor)
    await liaison.act(other["id"], "add_note", {"text": f"ABH intern {mark}", "visibility": "internal"})
    await liaison.act(other["id"], "add_note", {"text": f"ABH geteilt {mark}", "visibility": "shared"})
    env = {**os.environ, "DATABASE_URL": settings.database_url, "BLEIBE_DATA_DIR": str(settings.data_dir)}
    bleibe = Path(sys.executable).parent / "bleibe"
    proc = await asyncio.to_thread(subprocess.run, [str(bleibe), "export-person", other["reference"]], env=env,
                                   capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cases"][0]["id"] == other["id"]
    assert f"ABH geteilt {mark}" in proc.stdout and f"ABH intern {mark}" not in proc.stdout
    missing = await asyncio.to_thread(subprocess.run, [str(bleibe), "export-person", "NO-SUCH-REF"], env=env,
                                      capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no person" in missing.stderr
    async with sessions() as s:
        exports = (await s.scalars(select(AuditEvent).where(AuditEvent.action == "export_person"))).all()
    assert {tuple(e.details["case_ids"]) for e in exports} >= {(cid,), (other["id"],)}
