"""RetentionWorkflow: deletes the personal data of cases closed longer than the retention period.

Started daily by the Temporal Schedule `bleibe-retention` (created at worker start). The workflow only
computes the cut-off and calls the deletion activity in batches; names and texts never pass through it,
only case ids.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.retention import (
        DELETE_PERSONAL_DATA,
        DeletePersonalDataInput,
        DeletePersonalDataResult,
        RetentionResult,
        RetentionWorkflowInput,
    )

# Deletion is owed by law, so database outages are waited out; a malformed input is not retried.
RETENTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=20,
    non_retryable_error_types=["ValidationError"],
)
BATCH_TIMEOUT = timedelta(minutes=5)
MAX_BATCHES = 500  # a run deletes at most MAX_BATCHES × batch_size cases; the next day's run goes on


@workflow.defn(name="RetentionWorkflow")
class RetentionWorkflow:
    """One retention run: batches of deletions until no expired case is left."""

    @workflow.run
    async def run(self, inp: RetentionWorkflowInput) -> RetentionResult:
        closed_before = workflow.now() - timedelta(days=inp.retention_days)
        deleted = 0
        for _ in range(MAX_BATCHES):
            batch: DeletePersonalDataResult = await workflow.execute_activity(
                DELETE_PERSONAL_DATA,
                DeletePersonalDataInput(closed_before=closed_before, limit=inp.batch_size),
                result_type=DeletePersonalDataResult,
                start_to_close_timeout=BATCH_TIMEOUT,
                retry_policy=RETENTION_RETRY,
            )
            deleted += len(batch.case_ids)
            if len(batch.case_ids) < inp.batch_size:
                break
        workflow.logger.info("retention run finished", extra={"deleted": deleted})
        return RetentionResult(deleted=deleted, closed_before=closed_before)
