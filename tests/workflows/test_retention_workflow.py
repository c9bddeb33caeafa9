"""RetentionWorkflow: cut-off from the retention period, batches until done, ids only through Temporal."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.retention import (
    DELETE_PERSONAL_DATA,
    DeletePersonalDataInput,
    DeletePersonalDataResult,
    RetentionResult,
    RetentionWorkflowInput,
)
from workflows.retention import RetentionWorkflow
from workflows.sandbox import workflow_runner


async def test_retention_runs_batches_until_fewer_than_a_batch_remain(ts_env: WorkflowEnvironment) -> None:
    calls: list[DeletePersonalDataInput] = []
    remaining = [f"case-{i}" for i in range(7)]

    @activity.defn(name=DELETE_PERSONAL_DATA)
    async def fake_delete(inp: DeletePersonalDataInput) -> DeletePersonalDataResult:
        calls.append(inp)
        batch = remaining[: inp.limit]
        del remaining[: inp.limit]
        return DeletePersonalDataResult(case_ids=batch)

    tq = f"retention-{uuid.uuid4().hex[:8]}"
    async with Worker(ts_env.client, task_queue=tq, workflows=[RetentionWorkflow], activities=[fake_delete],
                      workflow_runner=workflow_runner()):
        start = await ts_env.get_current_time()
        result = await ts_env.client.execute_workflow(
            RetentionWorkflow.run, RetentionWorkflowInput(retention_days=365, batch_size=3),
            id=f"retention-{uuid.uuid4()}", task_queue=tq, result_type=RetentionResult)
    assert result.deleted == 7 and remaining == []
    assert [c.limit for c in calls] == [3, 3, 3]  # 3 + 3 + 1: the short batch ends the run
    assert len({c.closed_before for c in calls}) == 1
    cut = calls[0].closed_before
    assert abs(cut - (start - timedelta(days=365))) < timedelta(minutes=5)
    assert result.closed_before == cut
