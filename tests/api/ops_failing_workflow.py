"""A tiny workflow whose only activity always fails, so the stuck-case check meets a real failing activity."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

ALWAYS_FAILS = "ops_test_always_fails"


@activity.defn(name=ALWAYS_FAILS)
async def always_fails() -> None:
    raise RuntimeError("Datenbank nicht erreichbar (Test)")


@workflow.defn(name="OpsTestFailingWorkflow")
class FailingWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(
            ALWAYS_FAILS, start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100),
                                     maximum_interval=timedelta(milliseconds=300)),
        )
