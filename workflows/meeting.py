"""MeetingWorkflow: one joint meeting (`meeting-<date>`); MeetingPlannerWorkflow: keeps the next one planned.

The meeting workflow sleeps until its agenda closes and until the meeting day (each announced through
the outbox), then waits for the minutes. Once they are recorded, or when none came within a grace
period, every case still open on its agenda moves to the next planned meeting: the carry-over activity
moves the agenda items in SQL and names the next meeting, this workflow makes sure that meeting has a
workflow of its own and signals each moved case `move_to_meeting`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from rules.meetings import local_date
    from schemas.case import MoveToMeetingInput
    from schemas.meeting import (
        CARRY_OVER_AGENDA,
        MEETING_WORKFLOW,
        NOTIFY_MEETING,
        PLAN_MEETINGS,
        CarryOverInput,
        CarryOverResult,
        MeetingPhase,
        MeetingState,
        MeetingWorkflowInput,
        MinutesRecordedInput,
        NotifyMeetingInput,
        PlanMeetingsInput,
        PlanMeetingsResult,
    )

# Database work must happen eventually: retry patiently; a malformed input is not worth retrying.
MEETING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["ValidationError"],
)
ACTIVITY_TIMEOUT = timedelta(seconds=60)


async def start_meeting(inp: MeetingWorkflowInput) -> bool:
    """Start the meeting's workflow as an abandoned child; False when it runs (or ran) already."""
    try:
        await workflow.start_child_workflow(
            MEETING_WORKFLOW, inp, id=inp.meeting_id,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            # A finished meeting must not start again (its minutes are final).
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


@workflow.defn(name=MEETING_WORKFLOW)
class MeetingWorkflow:
    @workflow.init
    def __init__(self, inp: MeetingWorkflowInput) -> None:
        self.state = MeetingState(meeting_id=inp.meeting_id, date=inp.date)

    @workflow.run
    async def run(self, inp: MeetingWorkflowInput) -> MeetingState:
        if await self._sleep_until(inp.agenda_closes_at):
            self.state.phase = MeetingPhase.AGENDA_CLOSED
            await self._notify("meeting_agenda_closed")
        if await self._sleep_until(inp.starts_at):
            self.state.phase = MeetingPhase.MEETING_DAY
            await self._notify("meeting_day")
        if not self.state.minutes_recorded:
            deadline = max(inp.starts_at + inp.minutes_grace - workflow.now(), timedelta(seconds=1))
            try:
                await workflow.wait_condition(lambda: self.state.minutes_recorded, timeout=deadline)
            except TimeoutError:
                workflow.logger.warning("no minutes recorded; carrying the agenda over",
                                        extra={"meeting": inp.meeting_id})
        await self._carry_over()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    async def _sleep_until(self, when: datetime) -> bool:
        """Sleep until `when` unless the minutes come first; True when the time came without minutes."""
        remaining = when - workflow.now()
        if self.state.minutes_recorded:
            return False
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self.state.minutes_recorded, timeout=remaining)
                return False
            except TimeoutError:
                pass
        return True

    async def _notify(self, kind: str) -> None:
        await workflow.execute_activity(
            NOTIFY_MEETING, NotifyMeetingInput(meeting_id=self.state.meeting_id, kind=kind),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=MEETING_RETRY, result_type=int,
        )

    async def _carry_over(self) -> None:
        today = local_date(workflow.now())
        result = await workflow.execute_activity(
            CARRY_OVER_AGENDA,
            CarryOverInput(meeting_id=self.state.meeting_id, today=today,
                           minutes_recorded=self.state.minutes_recorded),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=MEETING_RETRY, result_type=CarryOverResult,
        )
        nxt = result.next_meeting
        if nxt is not None:
            self.state.next_meeting_id = nxt.meeting_id
            await start_meeting(nxt)
            for case_id in result.case_ids:
                try:
                    await workflow.get_external_workflow_handle(case_id).signal(
                        "move_to_meeting",
                        MoveToMeetingInput(from_meeting_id=self.state.meeting_id, meeting_id=nxt.meeting_id),
                    )
                except FailureError:  # the case ended meanwhile; nothing to move
                    workflow.logger.info("case not signalled", extra={"case": case_id})
                    continue
                self.state.carried_over.append(case_id)
        self.state.phase = MeetingPhase.CARRIED_OVER

    @workflow.signal
    def minutes_recorded(self, inp: MinutesRecordedInput) -> None:
        """The minutes are stored and each outcome signalled; a repeated signal changes nothing."""
        if inp.meeting_id == self.state.meeting_id:
            self.state.minutes_recorded = True

    @workflow.query
    def state_query(self) -> MeetingState:
        return self.state


@workflow.defn
class MeetingPlannerWorkflow:
    """Run by the Temporal Schedule: the next scheduled meeting exists, in SQL and as a workflow."""

    @workflow.run
    async def run(self, inp: PlanMeetingsInput) -> list[str]:
        today = inp.today or local_date(workflow.now())
        result = await workflow.execute_activity(
            PLAN_MEETINGS, PlanMeetingsInput(today=today),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=MEETING_RETRY, result_type=PlanMeetingsResult,
        )
        started = []
        for m in result.meetings:
            if await start_meeting(m):
                started.append(m.meeting_id)
        return started
