"""Operational gauges computed at scrape time: missed deadlines of open cases, the outbox by state."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Gauge
from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.metrics import REGISTRY
from api.ops_service import TIMER_GRACE, deadline_finding, latest_per_kind
from rules.lifecycle import Stage
from store.models import Case, OutboxMessage

DEADLINE_MISSES = Gauge("bleibe_deadline_misses", "Open cases with a missed or unhandled deadline, by kind",
                        ["kind"], registry=REGISTRY)
OUTBOX = Gauge("bleibe_outbox_messages", "Notifications in the outbox by state", ["state"], registry=REGISTRY)
NOTIFICATION_FAILURES = Gauge("bleibe_notification_failures", "Notifications given up after every retry",
                              registry=REGISTRY)


async def refresh_ops_gauges(session: AsyncSession) -> None:
    """Recount the gauges from the read model (same rules as the stuck-case check) and the outbox."""
    now = datetime.now(UTC)
    cond = and_(Case.stage != Stage.CLOSED.value,
                or_(Case.next_deadline < now - TIMER_GRACE, cast(Case.deadlines, Text).like('%"missed"%')))
    counts: dict[str, int] = {}
    for entered, deadlines in (await session.execute(select(Case.stage_entered_at, Case.deadlines).where(cond))).all():
        entered = entered if entered.tzinfo else entered.replace(tzinfo=UTC)
        for kind, d in latest_per_kind(deadlines or []).items():
            if deadline_finding(d, entered, now):
                counts[kind] = counts.get(kind, 0) + 1
    DEADLINE_MISSES.clear()
    for kind, n in counts.items():
        DEADLINE_MISSES.labels(kind=kind).set(n)
    by_state = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    states = dict((await session.execute(by_state)).all())
    OUTBOX.clear()
    for state in ("pending", "sending", "sent", "failed"):
        OUTBOX.labels(state=state).set(states.get(state, 0))
    NOTIFICATION_FAILURES.set(states.get("failed", 0))
