"""Case activities: project workflow events into the SQL read model, the audit log and the outbox.

Idempotent by construction: audit rows are unique per (case_id, seq), the case row only moves forward
(`last_seq`), outbox rows are unique per dedupe key. A retried activity or a replayed workflow writes
nothing twice.
"""

from __future__ import annotations

import asyncio
import os

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from schemas.case import PROJECT_CASE, CaseEvent, ProjectCaseInput
from store.db import SessionMaker, transaction
from store.models import AgendaItem, AuditEvent, Case, OutboxMessage
from store.projection import apply_state

log = structlog.get_logger(__name__)

# Reliability tests only: a pause before and after the projection's transaction, so a worker can be killed
# while the activity runs (both with nothing and with everything already committed). Unset in service.
_TEST_DELAY_ENV = "BLEIBE_TEST_PROJECTION_DELAY_MS"


async def _test_delay() -> None:
    ms = os.environ.get(_TEST_DELAY_ENV)
    if ms:
        await asyncio.sleep(int(ms) / 1000)


class CaseActivities:
    """Activities that need the database; constructed once in worker.py."""

    def __init__(self, sessions: SessionMaker) -> None:
        self.sessions = sessions

    @activity.defn(name=PROJECT_CASE)
    async def project_case(self, inp: ProjectCaseInput) -> int:
        """Write events, read model and notifications of one case; returns the number of new audit rows."""
        state = inp.state
        bound = log.bind(case_id=state.case_id, seq=state.seq)
        written = 0
        await _test_delay()
        async with transaction(self.sessions) as session:
            seqs = [e.seq for e in inp.events]
            existing = set(
                (
                    await session.scalars(
                        select(AuditEvent.seq).where(AuditEvent.case_id == state.case_id, AuditEvent.seq.in_(seqs))
                    )
                ).all()
            )
            for e in inp.events:
                if e.seq in existing:
                    continue
                session.add(
                    AuditEvent(
                        at=e.at, case_id=state.case_id, seq=e.seq, actor_id=e.actor.user_id or None,
                        role=e.actor.role, institution=e.actor.institution, action=e.action,
                        from_stage=e.from_stage, to_stage=e.to_stage, details=e.details, request_id=e.request_id,
                    )
                )
                written += 1
                if e.action == "refer_to_meeting":
                    await self._join_agenda(session, state.case_id, e)
            row = await session.get(Case, state.case_id, with_for_update=True)
            if row is None:
                bound.warning("projection for a case without read-model row")
            elif row.last_seq < state.seq:
                apply_state(row, state)
            keys = [f"{state.case_id}:{n.seq}:{n.kind}:{n.recipient_role}" for n in inp.notifications]
            if keys:
                have = set(
                    await session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys)))
                )
                for key, n in zip(keys, inp.notifications, strict=True):
                    if key not in have:
                        session.add(
                            OutboxMessage(dedupe_key=key, kind=n.kind, case_id=state.case_id,
                                          recipient_role=n.recipient_role, unit=n.unit, details=n.details)
                        )
        await _test_delay()
        bound.info("case projected", events=len(inp.events), new_events=written, stage=state.stage.value)
        return written

    @staticmethod
    async def _join_agenda(session: AsyncSession, case_id: str, e: CaseEvent) -> None:
        """A referred case joins its meeting's agenda (once; a new referral reopens the item)."""
        meeting_id = e.details["meeting_id"]
        item = await session.scalar(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id, AgendaItem.case_id == case_id)
        )
        if item is None:
            session.add(AgendaItem(meeting_id=meeting_id, case_id=case_id, reason_id=e.details.get("text_id"),
                                   referred_by=e.actor.user_id or None, referred_at=e.at))
        else:
            item.outcome = None
            item.reason_id = e.details.get("text_id")
            item.referred_at = e.at
