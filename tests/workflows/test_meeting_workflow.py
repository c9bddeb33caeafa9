"""MeetingWorkflow and MeetingPlannerWorkflow on the time-skipping server, with stand-in activities and real
CaseWorkflows for the carry-over signals.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.case import MeetingOutcomeInput, MoveToMeetingInput, ReferToMeetingInput
from schemas.meeting import (
    CARRY_OVER_AGENDA,
    NOTIFY_MEETING,
    PLAN_MEETINGS,
    CarryOverInput,
    CarryOverResult,
    MeetingState,
    MeetingWorkflowInput,
    MinutesRecordedInput,
    NotifyMeetingInput,
    PlanMeetingsInput,
    PlanMeetingsResult,
)
from tests.workflows.helpers import LIAISON, Recorder, start_case, state, update
from tests.workflows.test_case_transitions import to_review
from workflows.case import CaseWorkflow
from workflows.meeting import MeetingPlannerWorkflow, MeetingWorkflow
from workflows.sandbox import workflow_runner


@dataclass
class MeetingStandIns:
    """The meeting activities under their real names; they record their calls."""

    notices: list[tuple[str, str, datetime]] = field(default_factory=list)
    carry_overs: list[CarryOverInput] = field(default_factory=list)
    plans: list[PlanMeetingsInput] = field(default_factory=list)
    carry_result: Callable[[CarryOverInput], CarryOverResult] = lambda _: CarryOverResult()
    plan_result: PlanMeetingsResult = field(default_factory=PlanMeetingsResult)
    env: WorkflowEnvironment | None = None

    def activities(self) -> list[Any]:
        @activity.defn(name=NOTIFY_MEETING)
        async def notify(inp: NotifyMeetingInput) -> int:
            assert self.env is not None
            self.notices.append((inp.meeting_id, inp.kind, await self.env.get_current_time()))
            return 2

        @activity.defn(name=CARRY_OVER_AGENDA)
        async def carry(inp: CarryOverInput) -> CarryOverResult:
            self.carry_overs.append(inp)
            return self.carry_result(inp)

        @activity.defn(name=PLAN_MEETINGS)
        async def plan(inp: PlanMeetingsInput) -> PlanMeetingsResult:
            self.plans.append(inp)
            return self.plan_result

        return [notify, carry, plan]


@asynccontextmanager
async def meeting_worker(env: WorkflowEnvironment, fakes: MeetingStandIns, rec: Recorder) -> AsyncIterator[str]:
    fakes.env = env
    tq = f"meeting-test-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=tq, workflows=[MeetingWorkflow, MeetingPlannerWorkflow, CaseWorkflow],
                      activities=[*fakes.activities(), rec.activity()], workflow_runner=workflow_runner()):
        yield tq


def meeting_input(now: datetime, *, closes_in: timedelta, starts_in: timedelta,
                  grace: timedelta = timedelta(days=14)) -> MeetingWorkflowInput:
    d = (now + starts_in).date()
    # Unique ids: the session's test server keeps every workflow of earlier tests.
    return MeetingWorkflowInput(meeting_id=f"meeting-{d.isoformat()}-{uuid.uuid4().hex[:6]}", date=d,
                                agenda_closes_at=now + closes_in, starts_at=now + starts_in, minutes_grace=grace)


async def meeting_state(h: WorkflowHandle[Any, Any]) -> MeetingState:
    result: MeetingState = await h.query("state_query", result_type=MeetingState)
    return result


async def eventually(check: Callable[[], Any], what: str) -> None:
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def start_meeting(client: Client, tq: str, inp: MeetingWorkflowInput) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(MeetingWorkflow.run, inp, id=inp.meeting_id, task_queue=tq)


async def test_agenda_close_and_meeting_day_timers_fire_in_order(ts_env: WorkflowEnvironment) -> None:
    fakes, rec = MeetingStandIns(), Recorder()
    async with meeting_worker(ts_env, fakes, rec) as tq:
        now = await ts_env.get_current_time()
        inp = meeting_input(now, closes_in=timedelta(days=2), starts_in=timedelta(days=5))
        h = await start_meeting(ts_env.client, tq, inp)
        assert (await meeting_state(h)).phase == "planned"
        await ts_env.sleep(timedelta(days=1))
        assert fakes.notices == []  # the agenda is still open

        await ts_env.sleep(timedelta(days=1, hours=1))

        async def closed() -> bool:
            return (await meeting_state(h)).phase == "agenda_closed"
        await eventually(closed, "agenda closed")
        assert [(m, k) for m, k, _ in fakes.notices] == [(inp.meeting_id, "meeting_agenda_closed")]
        assert fakes.notices[0][2] >= inp.agenda_closes_at

        await ts_env.sleep(timedelta(days=3))

        async def day() -> bool:
            return (await meeting_state(h)).phase == "meeting_day"
        await eventually(day, "meeting day")
        assert [k for _, k, _ in fakes.notices] == ["meeting_agenda_closed", "meeting_day"]
        assert fakes.carry_overs == []  # waits for the minutes

        await h.signal("minutes_recorded", MinutesRecordedInput(meeting_id=inp.meeting_id))
        result = await h.result()
        assert result.phase == "carried_over" and result.minutes_recorded
        assert [c.minutes_recorded for c in fakes.carry_overs] == [True]


async def test_minutes_before_the_cutoff_skip_the_timers(ts_env: WorkflowEnvironment) -> None:
    fakes, rec = MeetingStandIns(), Recorder()
    async with meeting_worker(ts_env, fakes, rec) as tq:
        now = await ts_env.get_current_time()
        h = await start_meeting(ts_env.client, tq, meeting_input(now, closes_in=timedelta(days=10),
                                                                 starts_in=timedelta(days=12)))
        await h.signal("minutes_recorded", MinutesRecordedInput(meeting_id="meeting-other"))  # not this meeting
        assert not (await meeting_state(h)).minutes_recorded
        await h.signal("minutes_recorded", MinutesRecordedInput(meeting_id=h.id))
        await h.signal("minutes_recorded", MinutesRecordedInput(meeting_id=h.id))  # a retried request
        result = await h.result()
        assert result.phase == "carried_over"
        assert fakes.notices == [] and len(fakes.carry_overs) == 1


async def test_without_minutes_the_agenda_moves_on_after_the_grace_period(ts_env: WorkflowEnvironment) -> None:
    fakes, rec = MeetingStandIns(), Recorder()
    async with meeting_worker(ts_env, fakes, rec) as tq:
        now = await ts_env.get_current_time()
        inp = meeting_input(now, closes_in=timedelta(days=1), starts_in=timedelta(days=3), grace=timedelta(days=7))
        h = await start_meeting(ts_env.client, tq, inp)
        result = await h.result()  # the time-skipping server jumps over all three timers
        assert result.phase == "carried_over" and not result.minutes_recorded
        assert [k for _, k, _ in fakes.notices] == ["meeting_agenda_closed", "meeting_day"]
        assert [c.minutes_recorded for c in fakes.carry_overs] == [False]
        assert await ts_env.get_current_time() >= inp.starts_at + inp.minutes_grace


async def test_carry_over_moves_open_cases_to_the_next_meeting(ts_env: WorkflowEnvironment) -> None:
    fakes, rec = MeetingStandIns(), Recorder()
    async with meeting_worker(ts_env, fakes, rec) as tq:
        client = ts_env.client
        now = await ts_env.get_current_time()
        inp = meeting_input(now, closes_in=timedelta(days=5), starts_in=timedelta(days=8))
        nxt = meeting_input(now, closes_in=timedelta(days=30), starts_in=timedelta(days=36))
        cases = [await start_case(client, tq) for _ in range(3)]
        open_case, decided, gone = cases
        for h in cases:
            await to_review(h)
            await update(h, "refer_to_meeting", ReferToMeetingInput(actor=LIAISON, meeting_id=inp.meeting_id))
        # `gone` was moved elsewhere by hand meanwhile: the carry-over signal must not touch it
        await gone.signal("move_to_meeting", MoveToMeetingInput(from_meeting_id=inp.meeting_id,
                                                                meeting_id="meeting-elsewhere"))
        fakes.carry_result = lambda c: CarryOverResult(next_meeting=nxt, case_ids=[open_case.id, gone.id])
        h = await start_meeting(client, tq, inp)
        await decided.signal("meeting_outcome", MeetingOutcomeInput(meeting_id=inp.meeting_id,
                                                                     outcome="decision_ready", actor=LIAISON))
        for _ in range(2):  # the minutes route may be retried
            await h.signal("minutes_recorded", MinutesRecordedInput(meeting_id=inp.meeting_id,
                                                                    case_ids=[decided.id]))
        result = await h.result()
        assert len(fakes.carry_overs) == 1 and fakes.carry_overs[0].meeting_id == inp.meeting_id
        assert result.next_meeting_id == nxt.meeting_id
        assert result.carried_over == [open_case.id, gone.id]  # both signalled; `gone` ignores it

        async def moved() -> bool:
            return (await state(open_case)).meeting_id == nxt.meeting_id
        await eventually(moved, "open case moved")
        s = await state(open_case)
        assert s.stage == "joint_meeting"
        assert (await state(decided)).stage == "decision"
        assert (await state(gone)).meeting_id == "meeting-elsewhere"
        # a repeated carry-over signal for the old meeting changes nothing
        await open_case.signal("move_to_meeting", MoveToMeetingInput(from_meeting_id=inp.meeting_id,
                                                                     meeting_id="meeting-2099-01-01"))
        assert (await state(open_case)).meeting_id == nxt.meeting_id
        assert rec.actions(open_case.id).count("move_to_meeting") == 1
        moved_event = next(e for e in rec.events[open_case.id] if e.action == "move_to_meeting")
        assert moved_event.details == {"from_meeting_id": inp.meeting_id, "meeting_id": nxt.meeting_id}
        # the next meeting got its own workflow, which now waits for its agenda to close
        desc = await client.get_workflow_handle(nxt.meeting_id).describe()
        assert desc.status == WorkflowExecutionStatus.RUNNING
        assert (await meeting_state(client.get_workflow_handle(nxt.meeting_id))).phase == "planned"


async def test_planner_starts_each_planned_meeting_once(ts_env: WorkflowEnvironment) -> None:
    fakes, rec = MeetingStandIns(), Recorder()
    async with meeting_worker(ts_env, fakes, rec) as tq:
        client = ts_env.client
        now = await ts_env.get_current_time()
        running = meeting_input(now, closes_in=timedelta(days=20), starts_in=timedelta(days=23))
        new = meeting_input(now, closes_in=timedelta(days=40), starts_in=timedelta(days=43))
        await start_meeting(client, tq, running)
        fakes.plan_result = PlanMeetingsResult(meetings=[running, new])
        planner_id = f"planner-{uuid.uuid4().hex[:6]}"
        started = await client.execute_workflow(MeetingPlannerWorkflow.run, PlanMeetingsInput(), id=planner_id,
                                                task_queue=tq)
        assert started == [new.meeting_id]
        # the planner passes its own clock's date to the activity
        assert fakes.plans[0].today == now.astimezone(ZoneInfo("Europe/Berlin")).date()
        for m in (running, new):
            desc = await client.get_workflow_handle(m.meeting_id).describe()
            assert desc.status == WorkflowExecutionStatus.RUNNING
        # a second run starts nothing
        again = await client.execute_workflow(MeetingPlannerWorkflow.run, PlanMeetingsInput(today=date(2030, 1, 1)),
                                              id=f"{planner_id}-2", task_queue=tq)
        assert again == [] and fakes.plans[1].today == date(2030, 1, 1)
