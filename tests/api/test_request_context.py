"""Every answer carries its request id, also a 413 and an unexpected 500; request latency is measured per route."""

from __future__ import annotations

import httpx
import structlog

from api.app import create_app
from api.metrics import REQUEST_LATENCY
from core.settings import Settings
from tests.conftest import Api


def _count(method: str, route: str, status: str) -> float:
    for metric in REQUEST_LATENCY.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels == {"method": method, "route": route,
                                                                     "status": status}:
                return sample.value
    return 0.0


async def test_request_id_is_echoed_or_made_and_latency_is_counted(counselor: Api) -> None:
    before = _count("GET", "/api/v1/cases", "200")
    r = await counselor.get("/api/v1/cases", headers={"X-Request-ID": "req-echo-1"})
    assert r.status_code == 200 and r.headers["X-Request-ID"] == "req-echo-1"
    made = (await counselor.get("/api/v1/cases")).headers["X-Request-ID"]
    assert len(made) == 32 and made != "req-echo-1"
    assert _count("GET", "/api/v1/cases", "200") == before + 2
    r = await counselor.post("/api/v1/cases", content=b"x" * 10_000_000, headers={"X-Request-ID": "req-big"})
    assert r.status_code == 413 and r.headers["X-Request-ID"] == "req-big"
    assert r.headers["content-type"] == "application/problem+json"


async def test_unexpected_error_is_a_500_problem_with_the_request_id(settings: Settings) -> None:
    app = create_app(settings)
    seen: dict[str, object] = {}

    async def boom() -> None:
        seen.update(structlog.contextvars.get_contextvars())  # the handler runs inside the request's context
        raise RuntimeError("unexpected")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.get("/boom", headers={"X-Request-ID": "req-boom"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["X-Request-ID"] == "req-boom" and "X-Request-ID" in r.json()["detail"]
    assert seen.get("request_id") == "req-boom"
    assert "request_id" not in structlog.contextvars.get_contextvars()
