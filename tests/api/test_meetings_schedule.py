"""The meeting planner's Temporal Schedule on a real dev server: set up idempotently, and a run (triggered)
keeps the next scheduled meeting planned, as a row and as a running workflow.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from temporalio.client import ScheduleIntervalSpec, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.meeting import ensure_meeting_schedule
from api.meetings_service import meeting_rule
from core.settings import Settings
from rules.meetings import local_date
from store.meetings import meeting_for_referral
from store.models import Meeting
from tests.conftest import make_settings


async def _runs(handle: Any, n: int) -> list[Any]:
    runs: list[Any] = []
    for _ in range(100):
        runs = list((await handle.describe()).info.recent_actions)
        if len(runs) >= n:
            return runs
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(runs)} schedule runs, expected {n}")


async def test_schedule_triggers_the_planner(dev_env: WorkflowEnvironment, dev_worker: Worker, settings: Settings,
                                             sessions: Any, tmp_path: Any) -> None:
    client = dev_env.client
    schedule_id = f"test-meeting-planner-{uuid.uuid4().hex[:6]}"
    assert await ensure_meeting_schedule(client, settings, schedule_id) == "created"
    handle = client.get_schedule_handle(schedule_id)
    try:
        # a changed interval reaches the existing schedule at the next worker start
        changed = make_settings(settings.database_url, tmp_path, BLEIBE_TASK_QUEUE=settings.task_queue,
                                BLEIBE_MEETING_PLANNER_EVERY_HOURS=6)
        assert await ensure_meeting_schedule(client, changed, schedule_id) == "updated"
        spec = (await handle.describe()).schedule.spec
        assert spec.intervals == [ScheduleIntervalSpec(every=timedelta(hours=6))]

        first = await _runs(handle, 1)
        await client.get_workflow_handle(first[0].action.workflow_id).result()
        await asyncio.sleep(1.1)  # run ids carry the start second; overlapping runs are skipped
        await handle.trigger()
        runs = await _runs(handle, 2)  # the immediate run at creation and the triggered one
        results = [await client.get_workflow_handle(a.action.workflow_id).result() for a in runs]
        started = {mid for r in results for mid in r}

        today = local_date((await client.get_workflow_handle(runs[-1].action.workflow_id).describe()).start_time)
        async with sessions() as s:
            before = await s.scalar(select(func.count()).select_from(Meeting))
            # the meeting a referral would join now exists (created by the planner or earlier) ...
            planned = await meeting_for_referral(s, meeting_rule(settings), today)
            assert await s.scalar(select(func.count()).select_from(Meeting)) == before  # ... so nothing new
        assert planned.state == "planned" and planned.date >= today
        desc = await client.get_workflow_handle(planned.id).describe()
        assert desc.workflow_type == "MeetingWorkflow" and desc.status == WorkflowExecutionStatus.RUNNING
        # the second run finds everything planned and starts nothing twice
        assert all(len(r) == len(set(r)) for r in results) and len(started) == sum(len(r) for r in results)
    finally:
        await handle.delete()
