"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import generate_latest
from sqlalchemy import text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from api.deps import StateDep
from api.metrics import REGISTRY

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database and Temporal reachable, a worker polls the task queue")
async def readyz(st: StateDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with st.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 5)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        client = await st.temporal.get()
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=st.settings.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=__import__("datetime").timedelta(seconds=5),
        )
        checks["temporal"] = "ok"
        checks["worker"] = "ok" if resp.pollers else "no worker polls the task queue"
    except Exception as exc:
        checks.setdefault("temporal", f"unreachable: {type(exc).__name__}")
        checks.setdefault("worker", "unknown")
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(st: StateDep) -> PlainTextResponse:
    from api.gauges import refresh_gauges
    from core.temporal import sdk_metrics_address

    await refresh_gauges(st)
    body = generate_latest(REGISTRY).decode()
    addr = sdk_metrics_address()
    if addr:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                body += (await http.get(f"http://{addr}/metrics")).text
        except httpx.HTTPError:
            body += "# temporal sdk metrics unavailable\n"
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4")
