"""Reports: open cases, decisions, grant rate and time per stage, from the read model and the audit log.

Figures are counts and durations over all cases, never a reference or a name (pseudonymous statistics).
A case counts as decided on the day its decision closed it (Europe/Berlin); `open_by_stage` is the state
now, whatever the range; a stage's median counts the stays that ended inside the range.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.lifecycle import OPEN_STAGES, Stage
from store.models import AuditEvent, Case

BERLIN = ZoneInfo("Europe/Berlin")
DECIDED = ("granted", "refused")
NO_PATHWAY = "none"


class Figures(BaseModel):
    decided: int = 0
    granted: int = 0
    refused: int = 0
    grant_rate: float | None = None

    def add(self, outcome: str) -> None:
        self.decided += 1
        if outcome == "granted":
            self.granted += 1
        else:
            self.refused += 1
        self.grant_rate = round(self.granted / self.decided, 4)


class PathwayFigures(Figures):
    open: int = 0


class MonthFigures(Figures):
    month: str  # YYYY-MM


class ReportSummary(BaseModel):
    date_from: date | None
    date_to: date | None
    open_by_stage: dict[str, int]
    decided: int
    granted: int
    refused: int
    grant_rate: float | None
    median_days_in_stage: dict[str, float | None]
    by_pathway: dict[str, PathwayFigures]
    by_month: list[MonthFigures]


def _start(d: date) -> datetime:
    """00:00 Europe/Berlin of day `d`, in UTC."""
    return datetime(d.year, d.month, d.day, tzinfo=BERLIN).astimezone(UTC)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _months(first: date, last: date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


async def summary(session: AsyncSession, date_from: date | None, date_to: date | None) -> ReportSummary:
    """The report for [date_from, date_to] (both inclusive, either open-ended)."""
    lo = _start(date_from) if date_from else None
    hi = _start(date_to + timedelta(days=1)) if date_to else None

    open_by_stage = {s.value: 0 for s in OPEN_STAGES}
    by_pathway: dict[str, PathwayFigures] = defaultdict(PathwayFigures)
    rows = await session.execute(
        select(Case.stage, Case.pathway, func.count()).where(Case.stage != Stage.CLOSED.value)
        .group_by(Case.stage, Case.pathway)
    )
    for stage, pathway, n in rows.all():
        open_by_stage[stage] = open_by_stage.get(stage, 0) + n
        by_pathway[pathway or NO_PATHWAY].open += n

    cond = [Case.outcome.in_(DECIDED), Case.closed_at.is_not(None)]
    if lo:
        cond.append(Case.closed_at >= lo)
    if hi:
        cond.append(Case.closed_at < hi)
    total = Figures()
    months: dict[str, MonthFigures] = {}
    if date_from and date_to:
        months = {m: MonthFigures(month=m) for m in _months(date_from, date_to)}
    for pathway, outcome, closed_at in (
        await session.execute(select(Case.pathway, Case.outcome, Case.closed_at).where(and_(*cond)))
    ).all():
        total.add(outcome)
        by_pathway[pathway or NO_PATHWAY].add(outcome)
        month = _aware(closed_at).astimezone(BERLIN).strftime("%Y-%m")
        months.setdefault(month, MonthFigures(month=month)).add(outcome)

    return ReportSummary(
        date_from=date_from, date_to=date_to, open_by_stage=open_by_stage, decided=total.decided,
        granted=total.granted, refused=total.refused, grant_rate=total.grant_rate,
        median_days_in_stage=await _median_days(session, lo, hi), by_pathway=dict(sorted(by_pathway.items())),
        by_month=[months[m] for m in sorted(months)],
    )


async def _median_days(session: AsyncSession, lo: datetime | None, hi: datetime | None) -> dict[str, float | None]:
    """Median days per stage over the stays that ended in the range, from the audit log's stage transitions."""
    moved = and_(AuditEvent.seq.is_not(None), AuditEvent.to_stage.is_not(None))
    stmt = select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.at, AuditEvent.to_stage).where(moved)
    if hi:
        stmt = stmt.where(AuditEvent.at < hi)
    if lo:  # only cases that changed stage in the range can have a stay ending in it
        stmt = stmt.where(AuditEvent.case_id.in_(select(AuditEvent.case_id).where(moved, AuditEvent.at >= lo)))
    stays: dict[str, list[float]] = defaultdict(list)
    prev: tuple[str, datetime, str] | None = None  # case, entered at, stage
    for case_id, _seq, at, to_stage in (await session.execute(stmt.order_by(AuditEvent.case_id, AuditEvent.seq))).all():
        at = _aware(at)
        if prev and prev[0] == case_id and prev[2] != to_stage:
            if lo is None or at >= lo:
                stays[prev[2]].append((at - prev[1]).total_seconds() / 86400)
        if not prev or prev[0] != case_id or prev[2] != to_stage:
            prev = (case_id, at, to_stage)
    return {s.value: round(statistics.median(stays[s.value]), 1) if stays[s.value] else None for s in OPEN_STAGES}


def summary_csv(s: ReportSummary) -> str:
    """The summary as long-format CSV: section, key, metric, value (one figure a line)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "key", "metric", "value"])

    def figures(section: str, key: str, f: Figures, extra: dict[str, Any] | None = None) -> None:
        for metric, value in {**(extra or {}), "decided": f.decided, "granted": f.granted, "refused": f.refused,
                              "grant_rate": f.grant_rate}.items():
            w.writerow([section, key, metric, "" if value is None else value])

    w.writerow(["range", "", "from", s.date_from.isoformat() if s.date_from else ""])
    w.writerow(["range", "", "to", s.date_to.isoformat() if s.date_to else ""])
    figures("total", "", Figures(decided=s.decided, granted=s.granted, refused=s.refused, grant_rate=s.grant_rate))
    for stage, n in s.open_by_stage.items():
        w.writerow(["open_by_stage", stage, "open", n])
    for stage, days in s.median_days_in_stage.items():
        w.writerow(["median_days_in_stage", stage, "days", "" if days is None else days])
    for pathway, pf in s.by_pathway.items():
        figures("by_pathway", pathway, pf, {"open": pf.open})
    for mf in s.by_month:
        figures("by_month", mf.month, mf)
    return buf.getvalue()
