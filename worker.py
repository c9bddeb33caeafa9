"""The worker process: runs the case and meeting workflows and their activities on the task queue."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from core.settings import Settings, get_settings


def workflows() -> list[type]:
    from workflows.case import CaseWorkflow

    return [CaseWorkflow]


def activities(sessions: Any, settings: Settings) -> list[Any]:
    from activities.case import CaseActivities

    case = CaseActivities(sessions)
    return [case.project_case]


def build_worker(client: Client, sessions: Any, settings: Settings, *, task_queue: str | None = None,
                 **overrides: Any) -> Worker:
    """A worker with every workflow and activity of Bleibe (tests build theirs with this too)."""
    options: dict[str, Any] = {
        "max_concurrent_activities": settings.worker_max_concurrent_activities,
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "max_cached_workflows": settings.worker_max_cached_workflows,
    }
    options.update(overrides)
    from workflows.sandbox import workflow_runner

    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=workflows(),
        activities=activities(sessions, settings),
        workflow_runner=workflow_runner(),
        **options,
    )


async def run_worker(settings: Settings) -> None:
    from core.logging import configure_logging, get_logger
    from core.temporal import connect, runtime_with_metrics
    from store.db import make_engine, make_sessionmaker

    configure_logging(settings.log_format, settings.log_level)
    log = get_logger("bleibe.worker")
    metrics_port = os.environ.get("BLEIBE_WORKER_METRICS_PORT")
    runtime, metrics_addr = runtime_with_metrics(f"127.0.0.1:{metrics_port}" if metrics_port else None)
    client = await connect(settings, runtime=runtime)
    engine = make_engine(settings.database_url)
    worker = build_worker(client, make_sessionmaker(engine), settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue, metrics=metrics_addr)
    async with worker:
        await stop.wait()
        log.info("worker stopping")
    await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    status = 0
    try:
        asyncio.run(run_worker(get_settings()))
    except KeyboardInterrupt:
        status = 0
    except Exception as exc:  # one clear line, not a traceback, for start-up problems
        print(f"bleibe worker: {type(exc).__name__}: {exc}", file=sys.stderr)
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal core runtime can abort at interpreter exit (sdk-python#300); end with our status.
    os._exit(status)


if __name__ == "__main__":
    main()
