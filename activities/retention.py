"""Retention: delete the personal data of cases closed longer than the retention period.

What goes: the person's names, birth date and profile, every free text of the case (notes and
reasons), the reference (replaced by a pseudonym), the authority's file number, and stored API
responses that could repeat them. What stays, pseudonymous: stage, pathway, outcome, documents'
states and the dates, so the grant rate and durations can still be reported.
Idempotent: a case already handled is skipped, so a retried batch deletes nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, select, update
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
from schemas.retention import (
    DELETE_PERSONAL_DATA,
    RETENTION_SCHEDULE,
    RETENTION_WORKFLOW,
    DeletePersonalDataInput,
    DeletePersonalDataResult,
    RetentionWorkflowInput,
)
from store.db import SessionMaker, transaction
from store.models import AuditEvent, Case, IdempotencyKey, Note, Person

log = structlog.get_logger(__name__)


def pseudonym(person_id: str) -> str:
    """A stable stand-in for the reference, derived from the random person id (not from the person)."""
    return f"DEL-{person_id}"


class RetentionActivities:
    """The deletion activity; constructed once in worker.py."""

    def __init__(self, sessions: SessionMaker) -> None:
        self.sessions = sessions

    @activity.defn(name=DELETE_PERSONAL_DATA)
    async def delete_personal_data(self, inp: DeletePersonalDataInput) -> DeletePersonalDataResult:
        """Delete one batch; returns the ids of the cases whose personal data went."""
        return await delete_expired(self.sessions, inp)


async def delete_expired(sessions: SessionMaker, inp: DeletePersonalDataInput) -> DeletePersonalDataResult:
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        rows = (await session.scalars(
            select(Case).where(Case.closed_at.is_not(None), Case.closed_at < inp.closed_before,
                               Case.personal_data_deleted_at.is_(None))
            .order_by(Case.closed_at, Case.id).limit(inp.limit).with_for_update(skip_locked=True)
        )).all()
        for row in rows:
            person = await session.get(Person, row.person_id)
            alias = pseudonym(row.person_id)
            if person is not None:
                person.given_name = None
                person.family_name = None
                person.birth_date = None
                person.profile = {}
                person.reference = alias
                person.deleted_at = person.deleted_at or now
            await session.execute(update(Note).where(Note.case_id == row.id).values(text=None))
            row.reference = alias
            row.authority_file_number = None
            if row.state:
                row.state = {**row.state, "authority_file_number": None}
            row.personal_data_deleted_at = now
            session.add(AuditEvent(at=now, case_id=row.id, seq=None, actor_id=None, role="system",
                                   institution="operations", action="personal_data_deleted",
                                   details={"closed_at": row.closed_at.isoformat() if row.closed_at else None,
                                            "closed_before": inp.closed_before.isoformat()}))
        if rows:
            # Stored answers of old requests repeat references; they are only needed for short retries.
            await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < inp.closed_before))
    ids = [r.id for r in rows]
    if ids:
        log.info("personal data deleted", cases=len(ids))
    return DeletePersonalDataResult(case_ids=ids)



def retention_schedule(settings: Settings) -> Schedule:
    """Daily, never two runs at once; the run's input carries the configured retention period."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RETENTION_WORKFLOW, RetentionWorkflowInput(retention_days=settings.retention_days),
            id=f"{RETENTION_SCHEDULE}-run", task_queue=settings.task_queue, execution_timeout=timedelta(hours=6),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(days=1))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_retention_schedule(client: Client, settings: Settings,
                                    schedule_id: str = RETENTION_SCHEDULE) -> str:
    """Create the daily retention schedule, or update it to the current settings (idempotent)."""
    result = await upsert_schedule(client, schedule_id, retention_schedule(settings))
    log.info("retention schedule " + result, schedule_id=schedule_id, retention_days=settings.retention_days)
    return result
