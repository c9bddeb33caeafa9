"""Cases: create, list, read, timeline, eligibility, actions (API.md "Cases")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse

from api import casework
from api.deps import CurrentUser, SessionDep, StateDep
from api.schemas import CaseCreate, CasePage, CaseRead, EligibilityResult, TimelineEntry
from rules import eligibility

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


@router.post("", status_code=201, response_model=CaseRead, summary="Open a case (counselor)")
async def create_case(body: CaseCreate, st: StateDep, session: SessionDep, user: CurrentUser,
                      idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Store the person, start the case workflow; a repeated Idempotency-Key returns the first result."""
    status, result = await casework.create_case(st, session, user, body, idempotency_key)
    return JSONResponse(result, status_code=status)


@router.get("", response_model=CasePage, summary="List visible cases")
async def list_cases(
    session: SessionDep,
    user: CurrentUser,
    stage: Annotated[str | None, Query(max_length=32)] = None,
    pathway: Annotated[str | None, Query(max_length=8)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> CasePage:
    """Cases this user may see, newest first, with cursor pagination."""
    rows, nxt = await casework.list_cases(session, user, stage=stage, pathway=pathway, status=status, q=q,
                                          limit=limit, cursor=cursor)
    return CasePage(items=[casework.view(r, user) for r in rows], next_cursor=nxt)


@router.get("/{case_id}", response_model=CaseRead, summary="Read a case")
async def get_case(case_id: str, session: SessionDep, user: CurrentUser) -> CaseRead:
    """One case; 404 when unknown or not visible to this user."""
    row = await casework.load_case(session, user, case_id, audit_read=True)
    return casework.view(row, user)


@router.get("/{case_id}/timeline", response_model=list[TimelineEntry], summary="The case's audit trail")
async def get_timeline(case_id: str, session: SessionDep, user: CurrentUser) -> list[TimelineEntry]:
    """Every event of the case, oldest first."""
    row = await casework.load_case(session, user, case_id, audit_read=True)
    return await casework.timeline(session, user, row)


@router.get("/{case_id}/eligibility", response_model=list[EligibilityResult], summary="Eligibility per pathway")
async def get_eligibility(case_id: str, session: SessionDep, user: CurrentUser) -> list[EligibilityResult]:
    """The person's eligibility per Bleiberecht pathway as of today (counseling service only)."""
    from api.routes.eligibility import results_json
    from store.models import Person

    row = await casework.load_case(session, user, case_id, audit_read=True)
    person = await session.get(Person, row.person_id)
    profile = eligibility.Profile.from_person(person.profile if person else {})
    return results_json(eligibility.evaluate(profile, casework.today()))


@router.post("/{case_id}/actions/{action}", response_model=CaseRead, summary="Act on a case")
async def post_action(case_id: str, action: str, request: Request, st: StateDep, session: SessionDep,
                      user: CurrentUser, idempotency_key: IdempotencyKey = None,
                      body: Annotated[dict[str, Any] | None, Body()] = None) -> dict[str, Any]:
    """Run an action (API.md list); 409 with `current_stage`/`allowed_actions` when not allowed now."""
    return await casework.act(st, session, user, case_id, action, body or {}, idempotency_key,
                              getattr(request.state, "request_id", None))
