"""Operations: find stuck cases (SQL read model + Temporal describe) and repair one case.

Stuck reasons, one entry per case and reason:
- `stage_sla`: open longer in its stage than `BLEIBE_STAGE_SLA_DAYS` allows (SQL, index on stage + entry time);
- `missed_deadline`: the read model shows a missed deadline the case has not moved past, or a deadline whose
  time has passed without the workflow handling it (SQL: `next_deadline` index, a text filter on the JSON);
- `failing_activity`: the workflow has a pending activity that is retrying, or a failing workflow task;
- `workflow_missing`: the read model says open while no workflow runs (describe NOT_FOUND or closed).

The Temporal part describes every open case, concurrently with a cap (`BLEIBE_OPS_DESCRIBE_CONCURRENCY`).
Because that scan costs seconds at 10,000 open cases, its result is kept per process for
`SCAN_MAX_AGE`: a request gets the SQL reasons fresh plus the last scan (refreshed in the background when
stale), so the ops board answers in milliseconds; `max_age=None` (API `?fresh=true`, the CLI) waits for a
new scan. The first request of a process always waits for one.
Pending activities and workflow-task attempts are not in Temporal's visibility store, so a visibility query
could only find missing workflows, not failing ones; one describe per open case finds both. Measured on
the dev server ~1.5 ms per describe at 32 in flight, so 10,000 open cases cost some seconds there; a
cluster spreads the calls over its frontends. The SQL part alone (no client) stays in milliseconds.

The board is paged (`stuck_page`): findings in one order, oldest `since` first, then case id, then reason,
with an opaque cursor after the last one shown. A page costs about the same whether ten or thousands of cases
are stuck: the stage-SLA part reads at most a page per stage from its index, the scan is kept sorted and is
entered by bisection, and only the missed-deadline part reads all its candidates (cases whose deadline passed
unhandled: each one needs a person, so a large number of them is itself the incident).
"""

from __future__ import annotations

import asyncio
import bisect
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog
from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from api.cursors import decode_cursor, encode_cursor
from api.deps import RPC_TIMEOUT
from api.problems import Problem, unavailable
from core.settings import Settings
from rules.lifecycle import Stage
from schemas.case import Actor, CaseState, CaseWorkflowInput
from store.models import AuditEvent, Case, Person, User

log = structlog.get_logger(__name__)

Reason = Literal["stage_sla", "missed_deadline", "failing_activity", "workflow_missing"]

# A timer that fired a moment ago may not be projected yet; only a later lag means the workflow is not moving.
TIMER_GRACE = timedelta(minutes=10)
DESCRIBE_TIMEOUT = timedelta(seconds=10)
# Deadlines that stay relevant whatever the stage (the person's papers run out).
EXPIRY_KINDS = ("duldung_expiry", "fiktion_expiry")
DEADLINE_LABELS = {
    "eligibility_date": "Stichtag Voraussetzungen", "document_due": "Unterlagenfrist",
    "review_sla": "Bearbeitungsfrist der Behörde", "duldung_expiry": "Ablauf der Duldung",
    "fiktion_expiry": "Ablauf der Fiktionsbescheinigung", "appeal_deadline": "Rechtsbehelfsfrist",
}


class StuckCase(BaseModel):
    """A case that needs an operator: why, and since when."""

    case_id: str
    reference: str
    stage: str
    reason: Reason
    since: datetime
    detail: str


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _open() -> Any:
    return Case.stage != Stage.CLOSED.value


# ---- finding ------------------------------------------------------------------------------------------


SCAN_MAX_AGE = timedelta(seconds=30)
# One page of the ops board: the oldest findings first; the rest behind a cursor.
DEFAULT_PAGE = 100
MAX_PAGE = 1000
# A finding's place in the order every page keeps: oldest first, then case, then reason.
Key = tuple[datetime, str, str]
CURSOR_YEARS = (1900, 3000)


def _key(s: StuckCase) -> Key:
    return (s.since, s.case_id, s.reason)


def _cursor_parts(s: StuckCase) -> tuple[str, str, str]:
    return s.since.isoformat(), s.case_id, s.reason


def _key_from_cursor(since: str, case_id: str, reason: str) -> Key:
    at = _aware(datetime.fromisoformat(since))
    if not CURSOR_YEARS[0] <= at.year <= CURSOR_YEARS[1]:  # none we issue; far ends overflow date arithmetic
        raise ValueError(at.year)
    return at, str(case_id), str(reason)


class StuckPage(BaseModel):
    """One page of findings, oldest first; `total` counts every finding, `next_cursor` is None on the last page."""

    items: list[StuckCase]
    total: int
    next_cursor: str | None


class _Scan:
    """The last Temporal scan of one client and task queue, and the refresh running now (if any)."""

    def __init__(self) -> None:
        self.at: datetime | None = None
        self.results: list[StuckCase] = []  # in page order
        self.keys: list[Key] = []
        self.per_case: Counter[str] = Counter()
        self.task: asyncio.Task[None] | None = None

    async def run(self, client: Client, settings: Settings, bind: Any) -> None:
        """Describe every open case; reads the open cases in its own session (it may outlive the request)."""
        started = datetime.now(UTC)
        async with AsyncSession(bind) as session:
            open_rows = select(Case.id, Case.reference, Case.stage, Case.updated_at).where(_open())
            rows = [tuple(r) for r in (await session.execute(open_rows)).all()]
        self.set(sorted(await _temporal(client, settings, rows), key=_key), started)

    def set(self, results: list[StuckCase], at: datetime | None) -> None:
        self.results, self.keys = results, [_key(s) for s in results]
        self.per_case = Counter(s.case_id for s in results)
        self.at = at

    def forget(self, case_id: str) -> None:
        if case_id in self.per_case:
            self.set([s for s in self.results if s.case_id != case_id], self.at)


_scans: dict[tuple[int, str], _Scan] = {}


async def stuck_cases(session: AsyncSession, client: Client | None, settings: Settings, *,
                      max_age: timedelta | None = SCAN_MAX_AGE) -> list[StuckCase]:
    """Every stuck open case with its reasons, oldest first; without a client only the SQL reasons."""
    return (await stuck_page(session, client, settings, max_age=max_age, limit=None)).items


async def stuck_page(session: AsyncSession, client: Client | None, settings: Settings, *,
                     max_age: timedelta | None = SCAN_MAX_AGE, limit: int | None = DEFAULT_PAGE,
                     cursor: str | None = None) -> StuckPage:
    """The `limit` oldest findings after `cursor` (None: all), from the three sources merged in one order.

    Each source yields at most `limit + 1` findings past the cursor, in order, so a page costs the same
    whether 10 or 5,000 cases are stuck: the stage SLA part walks the (stage, stage_entered_at) index per
    stage. The deadline part reads every case the index marks as overdue (missed deadlines: few, and each
    one needs a person) and the Temporal part is the cached scan.
    """
    after = decode_cursor(cursor, _key_from_cursor) if cursor else None
    now = datetime.now(UTC)
    sla_items, sla_total = await _stage_sla(session, settings, now, after, limit)
    deadline_all = await _deadlines(session, now)
    temporal_items, temporal_total = [], 0
    if client is not None:
        temporal_items, temporal_total = await _temporal_findings(session, client, settings, max_age, now,
                                                                  after, limit)
    total = sla_total + len(deadline_all) + temporal_total
    deadline_items = [s for s in deadline_all if after is None or _key(s) > after]
    merged = sorted(sla_items + deadline_items + temporal_items, key=_key)
    if limit is None or len(merged) <= limit:
        return StuckPage(items=merged, total=total, next_cursor=None)
    return StuckPage(items=merged[:limit], total=total, next_cursor=encode_cursor(*_cursor_parts(merged[limit - 1])))


# A case closed a little before the scan started may have been projected only after it read the open cases.
SCAN_OVERLAP = timedelta(minutes=5)


async def _temporal_findings(session: AsyncSession, client: Client, settings: Settings,
                             max_age: timedelta | None, now: datetime, after: Key | None,
                             limit: int | None) -> tuple[list[StuckCase], int]:
    """The scan's findings past `after` (at most `limit + 1`) and how many it holds, less cases closed since."""
    scan = _scans.setdefault((id(client), settings.task_queue), _Scan())
    if max_age is None or scan.at is None:
        await scan.run(client, settings, session.bind)
    elif now - scan.at > max_age and (scan.task is None or scan.task.done()):
        scan.task = asyncio.create_task(scan.run(client, settings, session.bind))
    assert scan.at is not None
    # Only rows changed since the scan can have closed since; the updated_at index finds those few.
    closed = select(Case.id).where(Case.updated_at >= scan.at - SCAN_OVERLAP, Case.stage == Stage.CLOSED.value)
    gone = set((await session.scalars(closed)).all()) & scan.per_case.keys()
    total = len(scan.results) - sum(scan.per_case[c] for c in gone)
    start = bisect.bisect_right(scan.keys, after) if after is not None else 0
    window = scan.results[start:] if limit is None else scan.results[start:start + limit + 1 + len(gone)]
    return [s for s in window if s.case_id not in gone], total


def forget_scanned(case_id: str) -> None:
    """Drop a repaired case from every cached scan: the next scan says whether it is still stuck."""
    for scan in _scans.values():
        scan.forget(case_id)


async def _stage_sla(session: AsyncSession, settings: Settings, now: datetime, after: Key | None,
                     limit: int | None) -> tuple[list[StuckCase], int]:
    """Findings past `after` (at most `limit + 1` per stage, in order) and the number of all findings."""
    slas = {s: timedelta(days=d) for s, d in settings.stage_sla_days.items() if s != Stage.CLOSED.value}
    if not slas:
        return [], 0
    over = {s: and_(Case.stage == s, Case.stage_entered_at < now - sla) for s, sla in slas.items()}
    total = int(await session.scalar(select(func.count()).select_from(Case).where(or_(*over.values()))) or 0)
    out = []
    for stage, sla in slas.items():
        q = select(Case.id, Case.reference, Case.stage_entered_at).where(over[stage])
        if after is not None:
            # Within a stage `since` is entry time + SLA, so the cursor maps back onto the index column.
            at, cid, reason = after[0] - sla, after[1], after[2]
            same_time = Case.id >= cid if "stage_sla" > reason else Case.id > cid
            q = q.where(or_(Case.stage_entered_at > at, and_(Case.stage_entered_at == at, same_time)))
        q = q.order_by(Case.stage_entered_at, Case.id)
        if limit is not None:
            q = q.limit(limit + 1)
        for cid, ref, entered in (await session.execute(q)).all():
            entered = _aware(entered)
            days, allowed = (now - entered).days, sla / timedelta(days=1)
            out.append(StuckCase(case_id=cid, reference=ref, stage=stage, reason="stage_sla", since=entered + sla,
                                 detail=f"Seit {days} Tagen im Stand {stage} (erlaubt: {allowed:g} Tage)."))
    return out, total


async def _deadlines(session: AsyncSession, now: datetime) -> list[StuckCase]:
    cond = and_(_open(), or_(Case.next_deadline < now - TIMER_GRACE, Case.deadline_missed.is_(True)))
    rows = (await session.execute(
        select(Case.id, Case.reference, Case.stage, Case.stage_entered_at, Case.deadlines).where(cond)
    )).all()
    out = []
    for cid, ref, stage, entered, deadlines in rows:
        for d in latest_per_kind(deadlines or []).values():
            finding = deadline_finding(d, _aware(entered), now)
            if finding:
                since, detail = finding
                out.append(StuckCase(case_id=cid, reference=ref, stage=stage, reason="missed_deadline",
                                     since=since, detail=detail))
    return out


def latest_per_kind(deadlines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last deadline of each kind: a new one (Duldung extended, documents asked again) replaces older ones."""
    latest: dict[str, dict[str, Any]] = {}
    for d in deadlines:
        latest[d["kind"]] = d
    return latest


def deadline_finding(d: dict[str, Any], stage_entered: datetime, now: datetime) -> tuple[datetime, str] | None:
    kind, state = d["kind"], d["state"]
    due_at = _aware(datetime.fromisoformat(d["due_at"]))
    label = DEADLINE_LABELS.get(kind, kind)
    if kind == "appeal_deadline":
        return None  # passing it is the normal end of a refused case
    if state in ("pending", "reminded") and due_at < now - TIMER_GRACE:
        return due_at, f"{label} am {d['due']} abgelaufen, vom Workflow aber nicht verarbeitet."
    if state == "missed" and (kind in EXPIRY_KINDS or stage_entered <= due_at):
        return due_at, f"{label} am {d['due']} versäumt; der Fall ist seither nicht weitergekommen."
    return None


async def _temporal(client: Client, settings: Settings, rows: list[tuple[Any, ...]]) -> list[StuckCase]:
    sem = asyncio.Semaphore(settings.ops_describe_concurrency)

    async def check(cid: str, ref: str, stage: str, updated: datetime) -> list[StuckCase]:
        async with sem:
            try:
                desc = await client.get_workflow_handle(cid).describe(rpc_timeout=DESCRIBE_TIMEOUT)
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return [StuckCase(case_id=cid, reference=ref, stage=stage, reason="workflow_missing",
                                      since=_aware(updated), detail="Kein Workflow zu diesem offenen Fall.")]
                log.warning("describe failed", case_id=cid, status=str(exc.status))
                return []
        return _from_description(cid, ref, stage, _aware(updated), desc)

    results = await asyncio.gather(*(check(*r) for r in rows))
    return [s for r in results for s in r]


def _from_description(cid: str, ref: str, stage: str, updated: datetime,
                      desc: WorkflowExecutionDescription) -> list[StuckCase]:
    if desc.status != WorkflowExecutionStatus.RUNNING:
        status = desc.status.name.lower() if desc.status else "unknown"
        return [StuckCase(case_id=cid, reference=ref, stage=stage, reason="workflow_missing",
                          since=_aware(desc.close_time) if desc.close_time else updated,
                          detail=f"Workflow beendet ({status}), der Fall ist aber offen.")]
    out = []
    raw = desc.raw_description
    for pa in raw.pending_activities:
        if pa.attempt > 1 or pa.HasField("last_failure"):
            since = pa.scheduled_time.ToDatetime(tzinfo=UTC) if pa.HasField("scheduled_time") else updated
            error = pa.last_failure.message[:200] if pa.HasField("last_failure") else ""
            out.append(StuckCase(case_id=cid, reference=ref, stage=stage, reason="failing_activity", since=since,
                                 detail=f"Aktivität {pa.activity_type.name} scheitert (Versuch {pa.attempt}): {error}"))
    wt = raw.pending_workflow_task
    if raw.HasField("pending_workflow_task") and wt.attempt > 1:
        since = wt.original_scheduled_time.ToDatetime(tzinfo=UTC) if wt.HasField("original_scheduled_time") \
            else updated
        out.append(StuckCase(case_id=cid, reference=ref, stage=stage, reason="failing_activity", since=since,
                             detail=f"Workflow-Task scheitert (Versuch {wt.attempt})."))
    return out


# ---- repairing ----------------------------------------------------------------------------------------


async def repair_case(session: AsyncSession, client: Client, settings: Settings, case_id: str,
                      actor: User) -> dict[str, Any]:
    """Re-project the read model from the workflow, or restart a lost workflow from the read model; audited."""
    # The one projection helper lives with the projection activity; the repair must write rows exactly alike.
    from store.projection import apply_state

    row = await session.get(Case, case_id) if case_id.startswith("case-") else None
    if row is None:
        raise Problem(404, "Fall nicht gefunden.")
    before, before_seq = row.stage, row.last_seq
    handle = client.get_workflow_handle(case_id)
    try:
        try:
            desc = await handle.describe(rpc_timeout=RPC_TIMEOUT)
            status: WorkflowExecutionStatus | None = desc.status
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            status = None
        if status == WorkflowExecutionStatus.RUNNING or (
            status == WorkflowExecutionStatus.COMPLETED and row.stage != Stage.CLOSED.value
        ):
            state = await handle.query("state_query", result_type=CaseState, rpc_timeout=RPC_TIMEOUT)
            row = await session.get(Case, case_id, with_for_update=True, populate_existing=True)
            assert row is not None
            if state.seq >= row.last_seq:
                apply_state(row, state)
            mode = "reprojected"
        elif row.stage == Stage.CLOSED.value:
            mode = "unchanged"  # a closed case whose workflow ended: nothing to bring back
        else:
            await _restart(session, client, settings, row)
            mode = "restarted"
    except (RPCError, WorkflowQueryFailedError) as exc:  # no worker answers, or Temporal is down: nothing changed
        raise unavailable("Temporal") from exc
    workflow_status = status.name.lower() if status else "not_found"
    session.add(AuditEvent(at=datetime.now(UTC), case_id=case_id, seq=None, actor_id=actor.id, role=actor.role,
                           institution=actor.institution, action="repair_case", from_stage=before, to_stage=row.stage,
                           details={"mode": mode, "workflow": workflow_status, "seq_before": before_seq,
                                    "seq_after": row.last_seq}))
    await session.commit()
    forget_scanned(case_id)
    log.info("case repaired", case_id=case_id, mode=mode, workflow=workflow_status)
    return {"case_id": case_id, "mode": mode, "workflow": workflow_status, "stage": row.stage,
            "seq": row.last_seq}


async def _restart(session: AsyncSession, client: Client, settings: Settings, row: Case) -> None:
    """Start the case workflow again from the last projected state (USE_EXISTING: twice starts it once)."""
    from api.casework import timer_config

    creator = await session.get(User, row.created_by)
    created_by = Actor(user_id=creator.id, role=creator.role, institution=creator.institution,
                       unit=creator.unit) if creator else Actor(user_id=0, role="system", institution="system")
    state = CaseState.model_validate(row.state) if row.state else None
    duldung_until = None
    if state is None:  # never projected: the fresh workflow sets the Duldung timer from the person's data
        person = await session.get(Person, row.person_id)
        raw = (person.profile or {}).get("duldung_valid_until") if person else None
        duldung_until = datetime.fromisoformat(raw).date() if raw else None
    await client.start_workflow(
        "CaseWorkflow",
        CaseWorkflowInput(case_id=row.id, unit=row.unit, created_by=created_by, consent_given=row.consent_given,
                          duldung_valid_until=duldung_until, state=state,
                          config=timer_config(settings, search_attributes=settings.search_attributes)),
        id=row.id, task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        rpc_timeout=RPC_TIMEOUT,
    )
