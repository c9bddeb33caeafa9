"""A versioned workflow change (workflow.patched): old histories replay on the old path, new runs take the new one."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from core.settings import Settings
from core.temporal import data_converter
from tests.deploy.patch_scenario import HISTORY_V1, run_scenario
from workflows.case import PATCH_SLA_ON_AUTHORITY_NOTE, CaseWorkflow
from workflows.sandbox import workflow_runner


def _replayer(converter: Any = pydantic_data_converter) -> Replayer:
    return Replayer(workflows=[CaseWorkflow], data_converter=converter, workflow_runner=workflow_runner())


def _events(history_json: str) -> list[dict[str, Any]]:
    return list(json.loads(history_json)["events"])


def _patch_ids(history_json: str) -> list[str]:
    """The version markers a run recorded (the SDK stores the patch id in the marker's details)."""
    ids: list[str] = []
    for e in _events(history_json):
        attrs = e.get("markerRecordedEventAttributes")
        if attrs:
            for p in attrs["details"]["patch-data"]["payloads"]:
                ids.append(json.loads(base64.b64decode(p["data"]))["id"])
    return ids


def _projected_actions(history_json: str) -> list[str]:
    """The event actions a run handed to the projection activity (v1 payloads are plain JSON)."""
    actions: list[str] = []
    for e in _events(history_json):
        attrs = e.get("activityTaskScheduledEventAttributes")
        if attrs:
            for p in attrs["input"]["payloads"]:
                actions += [ev["action"] for ev in json.loads(base64.b64decode(p["data"]))["events"]]
    return actions


def test_v1_history_escalated_despite_the_note() -> None:
    """The recorded version-1 case escalated on day 28 although the liaison had written a note on day 10."""
    text = HISTORY_V1.read_text()
    assert _patch_ids(text) == []
    actions = _projected_actions(text)
    assert actions.index("add_note") < actions.index("review_escalated") < actions.index("withdraw")


async def test_v1_history_replays_with_the_patched_code() -> None:
    history = WorkflowHistory.from_json("case_sla_note_v1", HISTORY_V1.read_text())
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_v1_history_breaks_without_the_patch_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Taking the new path unconditionally (no version marker) would break every case already in review."""
    monkeypatch.setattr(workflow, "patched", lambda _id: True)
    history = WorkflowHistory.from_json("case_sla_note_v1", HISTORY_V1.read_text())
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()


async def test_new_runs_restart_the_sla_and_replay(ts_env: WorkflowEnvironment, settings: Settings) -> None:
    text, rec, h = await run_scenario(ts_env)
    assert "review_escalated" not in rec.actions(h.id)  # day 30 lies inside the SLA restarted on day 10
    assert _patch_ids(text) == [PATCH_SLA_ON_AUTHORITY_NOTE]
    result = await _replayer(data_converter(settings)).replay_workflow(
        WorkflowHistory.from_json(h.id, text), raise_on_replay_failure=True)
    assert result.replay_failure is None
