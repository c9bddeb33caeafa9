"""Reports: figures on known data (private database), and the routes with JSON, CSV and their errors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from api.reports_service import summary
from store.models import AuditEvent
from tests.api.ops_fixtures import plant_case, plant_user, private_database
from tests.conftest import Api

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def moves(case_id: str, *steps: tuple[float, str]) -> list[AuditEvent]:
    """Stage transitions as the projection writes them: (days after T0, new stage)."""
    out, prev = [], None
    for seq, (days, stage) in enumerate(steps, start=1):
        out.append(AuditEvent(at=T0 + timedelta(days=days), case_id=case_id, seq=seq, role="counselor",
                              institution="counseling", action="create_case" if prev is None else "moved",
                              from_stage=prev, to_stage=stage, details={}))
        prev = stage
    return out


async def test_figures_on_known_data(tmp_path: Path) -> None:
    async with private_database(tmp_path) as (_url, sessions):
        async with sessions() as s:
            u = await plant_user(s)
            await plant_case(s, u, stage="intake", pathway="25b")
            await plant_case(s, u, stage="intake")
            await plant_case(s, u, stage="authority_review", pathway="25a")
            decided = [  # (pathway, outcome, closed at)
                ("25b", "granted", datetime(2026, 1, 15, 10, tzinfo=UTC)),
                ("25b", "refused", datetime(2026, 2, 10, 10, tzinfo=UTC)),
                ("25a", "granted", datetime(2026, 2, 20, 10, tzinfo=UTC)),
                ("25b", "granted", datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),  # 00:30 on 1 Jan in Berlin: in
                ("25b", "granted", datetime(2025, 12, 31, 22, 30, tzinfo=UTC)),  # 23:30 on 31 Dec in Berlin: out
                ("25a", "withdrawn", datetime(2026, 1, 20, 10, tzinfo=UTC)),  # closed, not decided
                ("25a", "refused", datetime(2026, 3, 1, 10, tzinfo=UTC)),  # after the range
            ]
            for pathway, outcome, closed in decided:
                await plant_case(s, u, stage="closed", pathway=pathway, outcome=outcome, closed_at=closed)
            a = await plant_case(s, u, stage="closed", outcome="granted", pathway="19d",
                                 closed_at=datetime(2026, 4, 1, tzinfo=UTC))
            b = await plant_case(s, u, stage="authority_review")
            s.add_all(moves(a.id, (0, "intake"), (10, "document_collection"), (40, "authority_review"),
                            (60, "closed")))
            s.add_all(moves(b.id, (0, "intake"), (20, "document_collection"), (30, "authority_review")))
            await s.commit()

        async with sessions() as s:
            r = await summary(s, date(2026, 1, 1), date(2026, 2, 28))
            assert r.open_by_stage == {"intake": 2, "document_collection": 0, "authority_review": 2,
                                       "joint_meeting": 0, "decision": 0}
            assert (r.decided, r.granted, r.refused, r.grant_rate) == (4, 3, 1, 0.75)
            assert [(m.month, m.decided, m.granted, m.refused, m.grant_rate) for m in r.by_month] == [
                ("2026-01", 2, 2, 0, 1.0), ("2026-02", 2, 1, 1, 0.5)]
            assert r.by_pathway["25b"].model_dump() == {"decided": 3, "granted": 2, "refused": 1,
                                                        "grant_rate": 0.6667, "open": 1}
            assert r.by_pathway["25a"].decided == 1 and r.by_pathway["25a"].open == 1
            assert r.by_pathway["none"].open == 2 and r.by_pathway["none"].grant_rate is None
            # a: intake 10, documents 30 (ends 14 Feb); b: intake 20, documents 10 (ends 4 Feb); a's review ends
            # in March, outside the range.
            assert r.median_days_in_stage == {"intake": 15.0, "document_collection": 20.0, "authority_review": None,
                                              "joint_meeting": None, "decision": None}
            everything = await summary(s, None, None)
            assert everything.decided == 7 and everything.median_days_in_stage["authority_review"] == 20.0
            empty = await summary(s, date(2030, 1, 1), date(2030, 1, 31))
            assert empty.decided == 0 and empty.grant_rate is None
            assert [m.month for m in empty.by_month] == ["2030-01"]


async def test_routes_json_csv_and_errors(counselor: Api, liaison: Api, lead: Api, ops: Api, app: Any) -> None:
    for api in (counselor, liaison, lead, ops):
        r = await api.get("/api/v1/reports/summary", params={"from": "2026-01-01", "to": "2026-12-31"})
        assert r.status_code == 200, r.text
    body = r.json()
    for key in ("open_by_stage", "decided", "granted", "refused", "grant_rate", "median_days_in_stage",
                "by_pathway", "by_month"):
        assert key in body
    assert len(body["by_month"]) == 12
    r = await ops.get("/api/v1/reports/summary.csv", params={"from": "2026-01-01", "to": "2026-12-31"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert set(rows[0]) == {"section", "key", "metric", "value"}
    total = {row["metric"]: row["value"] for row in rows if row["section"] == "total"}
    assert int(total["decided"]) == body["decided"] and int(total["granted"]) == body["granted"]
    opened = {row["key"]: int(row["value"]) for row in rows if row["section"] == "open_by_stage"}
    assert opened == body["open_by_stage"]
    assert len([row for row in rows if row["section"] == "by_month" and row["metric"] == "decided"]) == 12
    bad = await ops.get("/api/v1/reports/summary", params={"from": "2026-12-31", "to": "2026-01-01"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert (await ops.get("/api/v1/reports/summary", params={"from": "kein-datum"})).status_code == 422
    from tests.conftest import Api as Anonymous

    assert (await Anonymous(app, None).get("/api/v1/reports/summary")).status_code == 401
