"""Replay recorded CaseWorkflow histories: a change that breaks determinism fails here, not in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.workflows.record_histories import HERE, SCENARIOS
from workflows.case import CaseWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = sorted(HERE.glob("*.json"))


def test_every_scenario_has_a_recorded_history() -> None:
    assert {p.stem for p in HISTORIES} >= {f"case_{name}" for name in SCENARIOS}


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_fresh_histories_replay(tmp_path: Path) -> None:
    """Histories recorded by the current code replay with the current code (catches non-determinism now)."""
    from tests.workflows.record_histories import record

    paths = await record(tmp_path)
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    for p in paths:
        await replayer.replay_workflow(WorkflowHistory.from_json(p.stem, p.read_text()))
    assert len(paths) == len(SCENARIOS)
