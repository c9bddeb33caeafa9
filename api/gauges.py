"""Gauges computed at scrape time from the read model (cases by stage and status)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Gauge
from sqlalchemy import func, select

from api.metrics import REGISTRY
from store.models import Case

CASES = Gauge("bleibe_cases", "Cases by stage and status", ["stage", "status"], registry=REGISTRY)


async def refresh_gauges(st: Any) -> None:
    try:
        async with st.sessions() as session:
            stmt = select(Case.stage, Case.status, func.count()).group_by(Case.stage, Case.status)
            rows = (await session.execute(stmt)).all()
            from api.ops_metrics import refresh_ops_gauges

            await refresh_ops_gauges(session)  # deadline misses, outbox by state, notification failures
    except Exception:  # metrics must not fail because the database is down
        return
    CASES.clear()
    for stage, status, n in rows:
        CASES.labels(stage=stage, status=status).set(n)
