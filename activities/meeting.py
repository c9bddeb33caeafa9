"""Meeting activities (announcements, carry-over, planning) and the Temporal Schedule of the planner.

Idempotent: outbox rows are unique per dedupe key, a carried-over agenda item is marked on the old
meeting and inserted once on the new one, meeting rows are created once per date.
"""

from __future__ import annotations

from datetime import date, timedelta

import structlog
from sqlalchemy import or_, select
from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from activities.schedules import upsert_schedule
from core.settings import Settings
from rules.lifecycle import Stage
from rules.meetings import MeetingRule
from schemas.meeting import (
    CARRY_OVER_AGENDA,
    MEETING_PLANNER_SCHEDULE,
    MEETING_PLANNER_WORKFLOW,
    NOTIFY_MEETING,
    PLAN_MEETINGS,
    CarryOverInput,
    CarryOverResult,
    MeetingWorkflowInput,
    NotifyMeetingInput,
    PlanMeetingsInput,
    PlanMeetingsResult,
)
from store.db import SessionMaker
from store.meetings import PLANNED, meeting_after, meeting_for_referral
from store.models import AgendaItem, Case, Meeting, OutboxMessage

log = structlog.get_logger(__name__)

CARRIED_OVER = "carried_over"  # outcome of an agenda item moved to the next meeting
NOTIFIED_ROLES = ("counselor", "authority_liaison")


class MeetingActivities:
    """Activities that need the database and the meeting rule; constructed once in worker.py."""

    def __init__(self, sessions: SessionMaker, settings: Settings) -> None:
        self.sessions = sessions
        self.rule = MeetingRule.of(settings)

    def _input(self, d: date) -> MeetingWorkflowInput:
        return MeetingWorkflowInput.for_date(d, self.rule)

    @activity.defn(name=NOTIFY_MEETING)
    async def notify_meeting(self, inp: NotifyMeetingInput) -> int:
        """Announce a meeting event to both institutions through the outbox; returns the new rows."""
        written = 0
        async with self.sessions() as session:
            m = await session.get(Meeting, inp.meeting_id)
            if m is None:
                return 0
            for role in NOTIFIED_ROLES:
                key = f"{inp.meeting_id}:{inp.kind}:{role}"
                if await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is None:
                    session.add(OutboxMessage(dedupe_key=key, kind=inp.kind, case_id=None, recipient_role=role,
                                              unit=None, details={"meeting_id": m.id, "date": m.date.isoformat()}))
                    written += 1
            await session.commit()
        log.info("meeting announced", meeting_id=inp.meeting_id, kind=inp.kind, new=written)
        return written

    @activity.defn(name=CARRY_OVER_AGENDA)
    async def carry_over_agenda(self, inp: CarryOverInput) -> CarryOverResult:
        """Move every case still open on the meeting's agenda to the next planned meeting (SQL side)."""
        async with self.sessions() as session:
            m = await session.get(Meeting, inp.meeting_id)
            if m is None:
                return CarryOverResult()
            rows = (await session.execute(
                select(AgendaItem, Case).join(Case, Case.id == AgendaItem.case_id).where(
                    AgendaItem.meeting_id == m.id,
                    or_(AgendaItem.outcome.is_(None), AgendaItem.outcome == CARRIED_OVER),
                ).order_by(AgendaItem.id)
            )).all()
            # A case that left the meeting meanwhile (withdrawn, say) stays where it is.
            moving = [(item, case) for item, case in rows if item.outcome == CARRIED_OVER
                      or (case.stage == Stage.JOINT_MEETING and case.meeting_id == m.id)]
            if not moving:
                return CarryOverResult()
            target = await meeting_after(session, self.rule, m.date, inp.today)
            for item, case in moving:
                item.outcome = CARRIED_OVER
                exists = await session.scalar(select(AgendaItem.id).where(
                    AgendaItem.meeting_id == target.id, AgendaItem.case_id == case.id))
                if exists is None:
                    # The original referral time travels along: the agenda sorts by how long a case waits.
                    session.add(AgendaItem(meeting_id=target.id, case_id=case.id, reason_id=item.reason_id,
                                           referred_by=item.referred_by, referred_at=item.referred_at))
            await session.commit()
            case_ids = [case.id for _, case in moving]
        log.info("agenda carried over", meeting_id=inp.meeting_id, to=target.id, cases=len(case_ids))
        return CarryOverResult(next_meeting=self._input(target.date), case_ids=case_ids)

    @activity.defn(name=PLAN_MEETINGS)
    async def plan_meetings(self, inp: PlanMeetingsInput) -> PlanMeetingsResult:
        """The next scheduled meeting exists; returns it and every other planned future meeting."""
        today = inp.today or date.today()
        async with self.sessions() as session:
            nxt = await meeting_for_referral(session, self.rule, today)
            planned = (await session.scalars(
                select(Meeting).where(Meeting.state == PLANNED, Meeting.date >= today).order_by(Meeting.date).limit(12)
            )).all()
            dates = sorted({nxt.date, *(m.date for m in planned)})
        return PlanMeetingsResult(meetings=[self._input(d) for d in dates])


def planner_schedule(settings: Settings, schedule_id: str = MEETING_PLANNER_SCHEDULE) -> Schedule:
    """The planner's schedule: every `BLEIBE_MEETING_PLANNER_EVERY_HOURS`, never two runs at once."""
    every = timedelta(hours=settings.meeting_planner_every_hours)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MEETING_PLANNER_WORKFLOW, PlanMeetingsInput(), id=f"{schedule_id}-run",
            task_queue=settings.task_queue, execution_timeout=timedelta(hours=1),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_meeting_schedule(client: Client, settings: Settings,
                                  schedule_id: str = MEETING_PLANNER_SCHEDULE) -> str:
    """Create the planner schedule, or bring an existing one up to date with the settings (idempotent)."""
    result = await upsert_schedule(client, schedule_id, planner_schedule(settings, schedule_id),
                                   trigger_immediately=True)
    log.info("meeting planner schedule " + result, schedule_id=schedule_id)
    return result
