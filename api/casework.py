"""Case flows shared by the JSON API and the web UI: create, act, read, with access and idempotency."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from pydantic import ValidationError
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.cursors import decode_cursor, encode_cursor
from api.deps import RPC_TIMEOUT, AppState
from api.metrics import ACTIONS
from api.problems import Problem, invalid, unavailable
from api.schemas import ACTION_BODIES, CaseCreate, CaseRead, PersonIn, Strict, TimelineEntry
from core.settings import Settings
from rules import eligibility
from rules.lifecycle import ACTION_STAGES, Institution, Stage, Verdict, allowed_actions, can_see, check
from schemas.case import (
    ACTION_INPUTS,
    Actor,
    CaseState,
    CaseWorkflowInput,
    TimerConfig,
)
from store.db import UNAVAILABLE_ERRORS
from store.models import AuditEvent, Case, IdempotencyKey, Note, Person, User

log = structlog.get_logger(__name__)
BERLIN = ZoneInfo("Europe/Berlin")


def today() -> date:
    return datetime.now(BERLIN).date()


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, role=user.role, institution=user.institution, unit=user.unit)


def timer_config(settings: Settings, *, search_attributes: bool = True) -> TimerConfig:
    return TimerConfig(
        eligibility_lead_days=settings.eligibility_lead_days,
        document_reminder_days=settings.document_reminder_days,
        review_sla_days=settings.review_sla_days,
        duldung_reminder_days=settings.duldung_reminder_days,
        appeal_reminder_days=settings.appeal_reminder_days,
        holiday_state=settings.holiday_state,
        upsert_search_attributes=search_attributes,
    )


# ---- reading -----------------------------------------------------------------------------------------


def visible(user: User, row: Case) -> bool:
    return can_see(user.institution, consent_given=row.consent_given, submitted=row.submitted_at is not None)


def visibility_filter(user: User) -> Any:
    if user.institution == Institution.AUTHORITY:
        return and_(Case.consent_given.is_(True), Case.submitted_at.is_not(None))
    return True


async def load_case(session: AsyncSession, user: User, case_id: str, *, audit_read: bool = False) -> Case:
    """The case if this user may see it; 404 otherwise (an invisible case looks like no case)."""
    row = await session.get(Case, case_id) if case_id.startswith("case-") else None
    if row is None or not visible(user, row):
        raise Problem(404, "Fall nicht gefunden.")
    if audit_read and user.institution != Institution.COUNSELING:
        # Reads by the other institution (and by operations) are accounted for (DOMAIN.md §3).
        session.add(AuditEvent(at=datetime.now(UTC), case_id=row.id, seq=None, actor_id=user.id, role=user.role,
                               institution=user.institution, action="read_case", details={},
                               request_id=structlog.contextvars.get_contextvars().get("request_id")))
        await session.commit()
    return row


def state_of(row: Case) -> CaseState | None:
    return CaseState.model_validate(row.state) if row.state else None


def view(row: Case, user: User, state: CaseState | None = None) -> CaseRead:
    """The case as API.md shows it, for this user (allowed actions depend on role and stage)."""
    state = state or state_of(row)
    stage = state.stage.value if state else row.stage
    allowed = allowed_actions(user.role, user.institution, stage)
    if state is None:  # created, not yet projected by the workflow
        return CaseRead(
            id=row.id, reference=row.reference, stage=row.stage, status=row.status, pathway=row.pathway,
            outcome=row.outcome, deadlines=[], documents=[], allowed_actions=allowed, authority_file_number=None,
            meeting_id=None, consent_given=row.consent_given, submitted_at=None, unit=row.unit,
            created_at=row.created_at, stage_entered_at=row.stage_entered_at, updated_at=row.updated_at,
        )
    return CaseRead(
        id=row.id, reference=row.reference, stage=stage, status=state.status.value, pathway=state.pathway,
        outcome=state.outcome,
        deadlines=[d.model_dump() for d in state.deadlines if d.state != "cancelled"],  # type: ignore[misc]
        documents=[d.model_dump() for d in state.documents],  # type: ignore[misc]
        allowed_actions=allowed, authority_file_number=state.authority_file_number, meeting_id=state.meeting_id,
        consent_given=state.consent_given, submitted_at=state.submitted_at, permit=state.permit,
        permit_valid_until=state.permit_valid_until, eligible_from=state.eligible_from, unit=state.unit,
        created_at=state.created_at, stage_entered_at=state.stage_entered_at, updated_at=state.updated_at,
    )


def _case_key_from_cursor(created_at: str, case_id: str) -> tuple[datetime, str]:
    return datetime.fromisoformat(created_at), str(case_id)


async def list_cases(session: AsyncSession, user: User, *, stage: str | None = None, pathway: str | None = None,
                     status: str | None = None, q: str | None = None, limit: int = 50,
                     cursor: str | None = None) -> tuple[list[Case], str | None]:
    stmt = select(Case).where(visibility_filter(user))
    if stage:
        stmt = stmt.where(Case.stage == stage)
    if pathway:
        stmt = stmt.where(Case.pathway == pathway)
    if status:
        stmt = stmt.where(Case.status == status)
    if q:
        like = f"%{q.strip()}%"
        if user.institution == Institution.COUNSELING:
            # Counselors may find their clients by name; other institutions by reference or file number.
            stmt = stmt.join(Person, Person.id == Case.person_id).where(
                or_(Case.reference.ilike(like), Person.given_name.ilike(like), Person.family_name.ilike(like))
            )
        else:
            stmt = stmt.where(or_(Case.reference.ilike(like), Case.authority_file_number.ilike(like)))
    if cursor:
        at, cid = decode_cursor(cursor, _case_key_from_cursor)
        stmt = stmt.where(or_(Case.created_at < at, and_(Case.created_at == at, Case.id < cid)))
    rows = list((await session.scalars(stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit + 1))).all())
    nxt = encode_cursor(rows[limit - 1].created_at.isoformat(), rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], nxt


async def timeline(session: AsyncSession, user: User, row: Case) -> list[TimelineEntry]:
    """The case's events, oldest first; free texts shown only where the user's institution may read them."""
    events = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == row.id, AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
        )
    ).all()
    user_ids = {e.actor_id for e in events if e.actor_id}
    names = dict((await session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))).all())
    text_ids = {e.details.get("text_id") for e in events if e.details.get("text_id")}
    notes = {n.id: n for n in (await session.scalars(select(Note).where(Note.id.in_(text_ids)))).all()}
    out = []
    for e in events:
        details = dict(e.details)
        tid = details.pop("text_id", None)
        note = notes.get(tid) if tid else None
        if note is not None and note_readable(user, note):
            details["text"] = note.text
        elif note is not None and e.action == "add_note":
            continue  # another institution's internal note: not even its existence leaves it
        out.append(TimelineEntry(at=e.at, actor=names.get(e.actor_id or 0, "system"), role=e.role, action=e.action,
                                 from_stage=e.from_stage, to_stage=e.to_stage, details=details))
    return out


def note_readable(user: User, note: Note) -> bool:
    if note.text is None:
        return False  # deleted by retention
    if note.visibility == "internal":
        return note.institution == user.institution
    return user.institution in (Institution.COUNSELING, Institution.AUTHORITY)


# ---- creating ----------------------------------------------------------------------------------------


def _key_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def validate_person(person: PersonIn, as_of: date, prefix: str = "person") -> eligibility.Profile:
    """The person as a rules profile; 422 naming the field for impossible data (birth after entry, …)."""
    profile = eligibility.Profile.from_person(person.model_dump())
    errors = eligibility.validate_profile(profile, as_of)
    if errors:
        raise invalid([{"field": f if f.startswith(prefix) else f"{prefix}.{f}", "message": m} for f, m in errors])
    return profile


async def create_case(st: AppState, session: AsyncSession, user: User, body: CaseCreate,
                      idempotency_key: str | None) -> tuple[int, dict[str, Any]]:
    """Store the person and the read-model row, then start the workflow; undo both if Temporal is down."""
    if user.role != "counselor":
        raise Problem(403, "Nur die Beratungsstelle legt Fälle an.")
    request_hash = _key_hash(body.model_dump_json())
    if idempotency_key:
        cached = await _cached(session, user, idempotency_key, request_hash)
        if cached:
            return cached
    validate_person(body.person, today())
    if body.consent_to_share.given and body.consent_to_share.date and body.consent_to_share.date > today():
        raise invalid([{"field": "consent_to_share.date", "message": "liegt in der Zukunft"}])
    # A repeated key must not start a second workflow: derive the id from the key.
    seed = uuid.uuid5(uuid.NAMESPACE_URL, f"bleibe:{user.id}:{idempotency_key}") if idempotency_key else uuid.uuid4()
    case_id = f"case-{seed}"
    # Only a repeated key can find its case already stored (its workflow start failed or is in flight).
    row = await session.get(Case, case_id) if idempotency_key else None
    if row is None:
        now = datetime.now(UTC)
        p = body.person
        person = Person(id=str(uuid.uuid4()), reference=p.reference, given_name=p.given_name,
                        family_name=p.family_name, birth_date=p.birth_date, profile=p.model_dump(mode="json"))
        session.add(person)
        try:
            await session.flush()  # people first: no ORM relationship tells the unit of work the order
        except IntegrityError as exc:  # people.reference is unique: one case per reference
            await session.rollback()
            raise Problem(409, "Für dieses Aktenzeichen besteht bereits ein Fall.", reference=p.reference) from exc
        row = Case(
            id=case_id, person_id=person.id, reference=p.reference, unit=user.unit, created_by=user.id,
            stage=Stage.INTAKE.value, status="active", pathway=body.pathway, consent_given=body.consent_to_share.given,
            consent_date=body.consent_to_share.date, stage_entered_at=now, created_at=now, updated_at=now,
            last_seq=-1, deadlines=[], documents=[], deadline_missed=False,
        )
        session.add(row)
        await session.commit()
    try:
        client = await st.temporal.get()
        await client.start_workflow(
            "CaseWorkflow",
            CaseWorkflowInput(case_id=case_id, unit=user.unit, created_by=actor_of(user),
                              consent_given=body.consent_to_share.given,
                              duldung_valid_until=body.person.duldung_valid_until,
                              config=timer_config(st.settings, search_attributes=st.settings.search_attributes)),
            id=case_id, task_queue=st.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            rpc_timeout=RPC_TIMEOUT,
        )
    except (RPCError, Problem, TimeoutError) as exc:
        await _undo_create(session, row)
        raise unavailable("Temporal") from exc
    result = view(row, user).model_dump(mode="json")
    if idempotency_key:
        await _remember(session, user, idempotency_key, request_hash, 201, result)
    log.info("case created", case_id=case_id)
    return 201, result


async def _undo_create(session: AsyncSession, row: Case) -> None:
    try:
        person_id = row.person_id
        await session.execute(delete(Case).where(Case.id == row.id, Case.last_seq < 0))
        await session.execute(delete(Person).where(Person.id == person_id))
        await session.commit()
    except UNAVAILABLE_ERRORS:
        log.warning("could not undo a case whose workflow did not start", case_id=row.id)


async def _cached(session: AsyncSession, user: User, key: str, request_hash: str) -> tuple[int, dict[str, Any]] | None:
    if len(key) > 200:
        raise invalid([{"field": "Idempotency-Key", "message": "höchstens 200 Zeichen"}])
    found = await session.get(IdempotencyKey, (user.id, key))
    if found is None:
        return None
    if found.request_hash != request_hash:
        raise Problem(422, "Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet.",
                      errors=[{"field": "Idempotency-Key", "message": "bereits für eine andere Anfrage verwendet"}])
    return found.status_code, found.response


async def _remember(session: AsyncSession, user: User, key: str, request_hash: str, status: int,
                    response: dict[str, Any]) -> None:
    try:
        session.add(IdempotencyKey(user_id=user.id, key=key, request_hash=request_hash, status_code=status,
                                   response=response))
        await session.commit()
    except UNAVAILABLE_ERRORS:
        # The action happened; a retry with this key is still safe (the workflow dedupes the update id).
        await session.rollback()
        log.warning("idempotency record not stored")
    except Exception:  # a concurrent request with the same key stored it first
        await session.rollback()


# ---- acting ------------------------------------------------------------------------------------------


def parse_body(action: str, raw: dict[str, Any]) -> Strict:
    model = ACTION_BODIES.get(action)
    if model is None:
        raise Problem(404, f"Unbekannte Aktion {action!r}.", known_actions=sorted(ACTION_BODIES))
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise invalid([
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]} for e in exc.errors()
        ]) from exc


async def act(st: AppState, session: AsyncSession, user: User, case_id: str, action: str, raw: dict[str, Any],
              idempotency_key: str | None, request_id: str | None = None) -> dict[str, Any]:
    """Run one action on a case as a validated Temporal update; see API.md for the statuses."""
    body = parse_body(action, raw)
    row = await load_case(session, user, case_id)
    request_hash = _key_hash(case_id, action, body.model_dump_json())
    if idempotency_key:
        cached = await _cached(session, user, idempotency_key, request_hash)
        if cached:
            return cached[1]
    verdict = check(user.role, user.institution, action, row.stage)
    if verdict is Verdict.FORBIDDEN:
        raise Problem(403, f"Die Rolle {user.role} darf {action} nicht ausführen.")
    update_id = (
        f"{action}-{_key_hash(str(user.id), idempotency_key)[:32]}" if idempotency_key else f"{action}-{uuid.uuid4()}"
    )
    client = await st.temporal.get()  # before any text is stored: Temporal down leaves nothing behind
    inp = await _build_input(session, st.settings, user, row, action, body, update_id, request_id)
    if action == "refer_to_meeting":  # the meeting the case joins runs its own workflow (timers, carry-over)
        from api.meetings_service import ensure_meeting_workflow

        await ensure_meeting_workflow(client, st.settings, inp.meeting_id)
    try:
        state: CaseState = await client.get_workflow_handle(case_id).execute_update(
            action, inp, id=update_id, result_type=CaseState, rpc_timeout=RPC_TIMEOUT
        )
    except WorkflowUpdateFailedError as exc:
        ACTIONS.labels(action, "refused").inc()
        await _drop_text(session, inp)
        raise _problem_from_update(exc, action) from exc
    except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
        ACTIONS.labels(action, "unavailable").inc()
        raise unavailable("Temporal") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            ACTIONS.labels(action, "refused").inc()
            await _drop_text(session, inp)
            raise Problem(409, "Der Fall läuft nicht mehr (abgeschlossen oder ohne Workflow).",
                          current_stage=row.stage, allowed_actions=[]) from exc
        ACTIONS.labels(action, "unavailable").inc()
        raise unavailable("Temporal") from exc
    ACTIONS.labels(action, "ok").inc()
    # The view is built from the update's result; the row only lends id and reference (no re-read).
    result = view(row, user, state).model_dump(mode="json")
    if idempotency_key:
        await _remember(session, user, idempotency_key, request_hash, 200, result)
    log.info("case action", case_id=case_id, action=action, stage=state.stage.value)
    return result


def _problem_from_update(exc: WorkflowUpdateFailedError, action: str) -> Problem:
    cause = exc.cause
    if not isinstance(cause, ApplicationError):
        return Problem(409, f"Die Aktion {action} wurde abgelehnt.")
    details = cause.details[0] if cause.details else {}
    if not isinstance(details, dict):
        details = {}
    if cause.type == "Forbidden":
        return Problem(403, f"Diese Rolle darf {action} nicht ausführen.")
    if cause.type == "ActionNotAllowed":
        return Problem(409, f"{action} ist im Stand {details.get('current_stage')} nicht möglich.",
                       current_stage=details.get("current_stage"), allowed_actions=details.get("allowed_actions", []))
    if cause.type == "InvalidInput":
        return invalid([{"field": details.get("field") or action, "message": cause.message}], cause.message)
    return Problem(409, cause.message, **{k: v for k, v in details.items() if k not in ("type", "status")})


async def _store_text(session: AsyncSession, user: User, row: Case, update_id: str, text: str | None, *,
                      kind: str = "reason", visibility: str = "shared") -> str | None:
    if not text:
        return None
    note_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bleibe-note:{row.id}:{update_id}"))
    if await session.get(Note, note_id) is None:
        # Two API processes may get the same Idempotency-Key at once: the second insert is a no-op.
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        await session.execute(insert(Note).values(
            id=note_id, case_id=row.id, kind=kind, visibility=visibility, institution=user.institution,
            author_id=user.id, text=text).on_conflict_do_nothing(index_elements=["id"]))
        await session.commit()
    return note_id


async def _drop_text(session: AsyncSession, inp: Any) -> None:
    text_id = getattr(inp, "text_id", None)
    if text_id:
        await session.execute(delete(Note).where(Note.id == text_id))
        await session.commit()


async def _build_input(session: AsyncSession, settings: Settings, user: User, row: Case, action: str, body: Any,
                       update_id: str, request_id: str | None) -> Any:
    base: dict[str, Any] = {"actor": actor_of(user), "request_id": request_id or update_id}
    model = ACTION_INPUTS[action]
    match action:
        case "complete_intake":
            pathway, eligible_from = await choose_pathway(session, row, body.pathway)
            return model(**base, pathway=pathway, eligible_from=eligible_from)
        case "refer_to_meeting":
            from api.meetings_service import meeting_for_referral

            meeting_id = await meeting_for_referral(session, today(), settings)
            text_id = await _store_text(session, user, row, update_id, body.reason)
            return model(**base, meeting_id=meeting_id, text_id=text_id)
        case "decide":
            if body.outcome == "refused" and body.notified_on is None:
                raise invalid([{"field": "notified_on", "message": "Pflichtfeld bei Ablehnung"}])
            if body.outcome == "granted" and (body.permit is None or body.valid_until is None):
                raise invalid([{"field": "permit" if body.permit is None else "valid_until",
                                "message": "Pflichtfeld bei Erteilung"}])
            text_id = await _store_text(session, user, row, update_id, body.reason)
            data = body.model_dump(exclude={"reason"})
            return model(**base, **data, text_id=text_id)
        case "withdraw" | "revoke_consent":
            text_id = await _store_text(session, user, row, update_id, body.reason, visibility="internal")
            return model(**base, text_id=text_id)
        case "add_note":
            text_id = await _store_text(session, user, row, update_id, body.text, kind="note",
                                        visibility=body.visibility)
            return model(**base, text_id=text_id, visibility=body.visibility)
        case "request_documents":
            return model(**base, documents=body.documents, due=body.due, due_at=body.due_at)
        case _:
            return model(**base, **body.model_dump())


async def choose_pathway(session: AsyncSession, row: Case, requested: str | None) -> tuple[str, date | None]:
    """The pathway for complete_intake: the one asked for, or the best met / nearest one (issue 4)."""
    person = await session.get(Person, row.person_id)
    profile = eligibility.Profile.from_person(person.profile if person else {})
    results = eligibility.evaluate(profile, today())
    if requested:
        res = next(r for r in results if r.pathway == requested)
        return requested, res.eligible_from if res.status == "not_yet" else None
    best = eligibility.best_pathway(results)
    if best is None:
        raise Problem(409, "Kein Bleiberechtsweg ist erfüllt oder absehbar erfüllbar; bitte einen Weg angeben.",
                      current_stage=row.stage, allowed_actions=["complete_intake", "withdraw", "add_note"],
                      eligibility=[{"pathway": r.pathway, "status": r.status} for r in results])
    return best.pathway, best.eligible_from if best.status == "not_yet" else None


def known_action(action: str) -> bool:
    return action in ACTION_STAGES


async def get_state(client: Client, case_id: str) -> CaseState:
    return await client.get_workflow_handle(case_id).query("state_query", result_type=CaseState,
                                                           rpc_timeout=RPC_TIMEOUT)
