"""Reports: the summary as JSON and as CSV (API.md "Ops and reports").

Every role may read them: they are pseudonymous statistics (counts, rates, durations; no reference, no
name), and both institutions need the grant rate and the time a case takes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import CurrentUser, SessionDep
from api.problems import invalid
from api.reports_service import ReportSummary, summary, summary_csv

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]


async def _summary(session: SessionDep, date_from: date | None, date_to: date | None) -> ReportSummary:
    if date_from and date_to and date_from > date_to:
        raise invalid([{"field": "to", "message": "liegt vor dem Beginn des Zeitraums"}])
    return await summary(session, date_from, date_to)


@router.get("/summary", response_model=ReportSummary, summary="Open cases, decisions, grant rate, time per stage")
async def get_summary(session: SessionDep, user: CurrentUser, date_from: From = None,
                      date_to: To = None) -> ReportSummary:
    """The summary for the range (`from`, `to` inclusive; either may be left out)."""
    return await _summary(session, date_from, date_to)


@router.get("/summary.csv", summary="The summary as CSV (section, key, metric, value)")
async def get_summary_csv(session: SessionDep, user: CurrentUser, date_from: From = None,
                          date_to: To = None) -> Response:
    """The same figures, one a line, for spreadsheets."""
    body = summary_csv(await _summary(session, date_from, date_to))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="bleibe-bericht.csv"'})
