"""The worker process: runs the case and meeting workflows and their activities on the task queue."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from core.settings import Settings, get_settings


def workflows() -> list[type]:
    from workflows.case import CaseWorkflow
    from workflows.meeting import MeetingPlannerWorkflow, MeetingWorkflow
    from workflows.retention import RetentionWorkflow

    return [CaseWorkflow, MeetingWorkflow, MeetingPlannerWorkflow, RetentionWorkflow]


def activities(sessions: Any, settings: Settings) -> list[Any]:
    from activities.case import CaseActivities
    from activities.meeting import MeetingActivities
    from activities.retention import RetentionActivities

    case = CaseActivities(sessions)
    meeting = MeetingActivities(sessions, settings)
    retention = RetentionActivities(sessions)
    return [case.project_case, meeting.notify_meeting, meeting.carry_over_agenda, meeting.plan_meetings,
            retention.delete_personal_data]


def build_worker(client: Client, sessions: Any, settings: Settings, *, task_queue: str | None = None,
                 **overrides: Any) -> Worker:
    """A worker with every workflow and activity of Bleibe (tests build theirs with this too)."""
    options: dict[str, Any] = {
        "max_concurrent_activities": settings.worker_max_concurrent_activities,
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "max_cached_workflows": settings.worker_max_cached_workflows,
        "sticky_queue_schedule_to_start_timeout": timedelta(seconds=settings.worker_sticky_timeout_seconds),
        "graceful_shutdown_timeout": timedelta(seconds=settings.worker_shutdown_grace_seconds),
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
    port = settings.worker_metrics_port
    runtime, metrics_addr = runtime_with_metrics(f"{settings.worker_metrics_host}:{port}" if port else None)
    client = await connect(settings, runtime=runtime)
    engine = make_engine(settings.database_url)
    worker = build_worker(client, make_sessionmaker(engine), settings)
    await _schedule_meetings(client, settings, log)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue, metrics=metrics_addr)
    from activities.notify import OutboxSender

    # The outbox sender lives beside the worker (see activities/notify.py for why not a workflow).
    sender = asyncio.create_task(OutboxSender(make_sessionmaker(engine), settings).run(stop))
    async with worker:
        await stop.wait()
        log.info("worker stopping")
    await sender
    await engine.dispose()


async def _schedule_meetings(client: Client, settings: Settings, log: Any) -> None:
    """Create or update the meeting planner's Temporal Schedule; the worker runs on without it."""
    from temporalio.service import RPCError

    from activities.meeting import ensure_meeting_schedule

    try:
        await ensure_meeting_schedule(client, settings)
    except RPCError as exc:
        log.warning("meeting planner schedule not set up", error=str(exc))
    from activities.retention import ensure_retention_schedule

    try:
        await ensure_retention_schedule(client, settings)
    except RPCError as exc:
        log.warning("retention schedule not set up", error=str(exc))


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
