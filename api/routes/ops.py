"""Operations: stuck cases and case repair (API.md "Ops and reports")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.deps import SessionDep, StateDep, require_roles
from api.ops_service import DEFAULT_PAGE, MAX_PAGE, SCAN_MAX_AGE, StuckCase, repair_case, stuck_page
from api.problems import Problem
from store.models import User

router = APIRouter(prefix="/api/v1/ops", tags=["ops"])

OpsOrLead = Annotated[User, require_roles("ops", "authority_lead")]
OpsOnly = Annotated[User, require_roles("ops")]


@router.get("/stuck", response_model=list[StuckCase], summary="Stuck cases with reason and since, oldest first")
async def get_stuck(request: Request, st: StateDep, session: SessionDep, user: OpsOrLead, response: Response,
                    fresh: bool = False,
                    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
                    cursor: Annotated[str | None, Query(max_length=500)] = None) -> list[StuckCase]:
    """The oldest `limit` stuck findings; Temporal findings from a scan at most 30 s old (`fresh=true`: a new scan).

    The body stays the list of API.md. `X-Total-Count` counts every finding; when more follow,
    `X-Next-Cursor` and a `Link: <…>; rel="next"` header carry the next page's `cursor`.
    With Temporal unreachable the SQL reasons only and `X-Bleibe-Partial: temporal`.
    """
    try:
        client = await st.temporal.get()
    except Problem:
        # The board matters most when Temporal is in trouble: show what the read model knows.
        client = None
        response.headers["X-Bleibe-Partial"] = "temporal"
    page = await stuck_page(session, client, st.settings, max_age=None if fresh else SCAN_MAX_AGE,
                            limit=limit, cursor=cursor)
    response.headers["X-Total-Count"] = str(page.total)
    if page.next_cursor:
        response.headers["X-Next-Cursor"] = page.next_cursor
        nxt = request.url.remove_query_params("fresh").include_query_params(cursor=page.next_cursor, limit=limit)
        response.headers["Link"] = f'<{nxt}>; rel="next"'
    return page.items


@router.post("/cases/{case_id}/repair", summary="Re-sync a case's read model or restart its lost workflow")
async def post_repair(case_id: str, st: StateDep, session: SessionDep, user: OpsOnly) -> dict[str, Any]:
    """Re-project from the workflow's state query, or restart a missing workflow from the read model; audited."""
    client = await st.temporal.get()
    return await repair_case(session, client, st.settings, case_id, user)
