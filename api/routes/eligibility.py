"""Eligibility check without storing anything, and deadline arithmetic (API.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api import casework
from api.deps import CurrentUser
from api.problems import invalid
from api.schemas import EligibilityCheck, EligibilityResult
from rules import deadlines, eligibility

router = APIRouter(prefix="/api/v1", tags=["rules"])


def results_json(results: list[eligibility.PathwayResult]) -> list[EligibilityResult]:
    return [
        EligibilityResult(pathway=r.pathway, status=r.status, eligible_from=r.eligible_from, missing=list(r.missing),
                          rules_as_of=r.rules_as_of, uncertain=list(r.uncertain),
                          label=eligibility.PATHWAY_LABELS.get(r.pathway))
        for r in results
    ]


@router.post("/eligibility/check", response_model=list[EligibilityResult], summary="Check eligibility (nothing stored)")
async def check(body: EligibilityCheck, user: CurrentUser) -> list[EligibilityResult]:
    """One result per pathway for the given person as of `as_of` (default today)."""
    as_of = body.as_of or casework.today()
    profile = casework.validate_person(body.person, as_of)
    return results_json(eligibility.evaluate(profile, as_of))


@router.get("/deadlines/compute", summary="German deadline arithmetic")
async def compute(
    user: CurrentUser,
    event: Annotated[date, Query()],
    period: Annotated[str, Query(max_length=12)],
    state: Annotated[str, Query(max_length=2)] = "SN",
) -> dict[str, object]:
    """§31 VwVfG, §§187–193 BGB, §222 ZPO: the end of a period after an event, moved off weekends/holidays."""
    try:
        r = deadlines.compute_deadline(event, period, state.upper())
    except deadlines.InvalidPeriod as exc:
        raise invalid([{"field": "period", "message": str(exc)}]) from exc
    except deadlines.InvalidState as exc:
        raise invalid([{"field": "state", "message": str(exc)}]) from exc
    return {"event": r.event.isoformat(), "period": r.period, "state": r.state, "end": r.end.isoformat(),
            "shifted_from": r.shifted_from.isoformat() if r.shifted_from else None, "reason": r.reason}
