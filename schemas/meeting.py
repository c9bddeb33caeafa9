"""Models shared by the meeting workflows, their activities and the API (ids and dates only)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from rules.deadlines import end_of_day
from rules.meetings import MeetingRule, meeting_id_for
from schemas.case import SYSTEM, Actor

# Activities and workflows are called by name, so neither side imports the other (DESIGN.md).
NOTIFY_MEETING = "notify_meeting"
CARRY_OVER_AGENDA = "carry_over_agenda"
PLAN_MEETINGS = "plan_meetings"
MEETING_WORKFLOW = "MeetingWorkflow"
MEETING_PLANNER_WORKFLOW = "MeetingPlannerWorkflow"
MEETING_PLANNER_SCHEDULE = "bleibe-meeting-planner"

# Without minutes this long after the meeting day, its open cases move on anyway.
DEFAULT_MINUTES_GRACE = timedelta(days=14)


class MeetingPhase(StrEnum):
    PLANNED = "planned"  # agenda open
    AGENDA_CLOSED = "agenda_closed"
    MEETING_DAY = "meeting_day"  # the day has come; waiting for the minutes
    CARRIED_OVER = "carried_over"  # minutes applied (or none came); open cases moved on


class MeetingWorkflowInput(BaseModel):
    meeting_id: str
    date: date
    agenda_closes_at: datetime
    starts_at: datetime  # 00:00 Europe/Berlin of the meeting day
    minutes_grace: timedelta = DEFAULT_MINUTES_GRACE

    @classmethod
    def for_date(cls, d: date, rule: MeetingRule) -> MeetingWorkflowInput:
        return cls(meeting_id=meeting_id_for(d), date=d, agenda_closes_at=rule.agenda_closes_at(d),
                   starts_at=end_of_day(d - timedelta(days=1)))


class MeetingState(BaseModel):
    """The meeting workflow's state (query)."""

    meeting_id: str
    date: date
    phase: MeetingPhase = MeetingPhase.PLANNED
    minutes_recorded: bool = False
    carried_over: list[str] = Field(default_factory=list)  # case ids moved to the next meeting
    next_meeting_id: str | None = None


class MinutesRecordedInput(BaseModel):
    """Signal from the minutes route: the outcomes are stored and signalled to the cases."""

    meeting_id: str
    actor: Actor = SYSTEM
    case_ids: list[str] = Field(default_factory=list)


class NotifyMeetingInput(BaseModel):
    meeting_id: str
    kind: str  # meeting_agenda_closed | meeting_day


class CarryOverInput(BaseModel):
    meeting_id: str
    today: date
    minutes_recorded: bool = True


class CarryOverResult(BaseModel):
    next_meeting: MeetingWorkflowInput | None = None
    case_ids: list[str] = Field(default_factory=list)


class PlanMeetingsInput(BaseModel):
    today: date | None = None  # set by the planner workflow from workflow.now()


class PlanMeetingsResult(BaseModel):
    meetings: list[MeetingWorkflowInput] = Field(default_factory=list)
