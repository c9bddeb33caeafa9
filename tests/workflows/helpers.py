"""Harness for CaseWorkflow tests: a recording stand-in for the projection activity and action helpers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from schemas.case import (
    PROJECT_CASE,
    Actor,
    CaseEvent,
    CaseState,
    CaseWorkflowInput,
    Notification,
    ProjectCaseInput,
    TimerConfig,
)
from workflows.case import CaseWorkflow
from workflows.sandbox import workflow_runner

COUNSELOR = Actor(user_id=1, role="counselor", institution="counseling", unit="dd")
LIAISON = Actor(user_id=2, role="authority_liaison", institution="authority")
LEAD = Actor(user_id=3, role="authority_lead", institution="authority")
OPS = Actor(user_id=4, role="ops", institution="operations")


@dataclass
class Recorder:
    """Stands in for the projection activity under its real name; keeps what it was given."""

    events: dict[str, list[CaseEvent]] = field(default_factory=dict)
    notifications: dict[str, list[Notification]] = field(default_factory=dict)
    calls: int = 0
    fail_times: int = 0

    def activity(self) -> Any:
        @activity.defn(name=PROJECT_CASE)
        async def project(inp: ProjectCaseInput) -> int:
            self.calls += 1
            if self.fail_times > 0:
                self.fail_times -= 1
                raise RuntimeError("database unavailable (simulated)")
            known = {e.seq for e in self.events.get(inp.state.case_id, [])}
            new = [e for e in inp.events if e.seq not in known]
            self.events.setdefault(inp.state.case_id, []).extend(new)
            self.notifications.setdefault(inp.state.case_id, []).extend(inp.notifications)
            return len(new)

        return project

    def actions(self, case_id: str) -> list[str]:
        return [e.action for e in self.events.get(case_id, [])]


_started: dict[str, list[str]] = {}


@asynccontextmanager
async def case_worker(client: Client, recorder: Recorder) -> AsyncIterator[str]:
    """A worker on a fresh task queue; cases it leaves open are terminated when it stops.

    The time-skipping server is shared by the session: an orphaned workflow whose timer fires with no
    worker to run it would stall time skipping for every later test.
    """
    tq = f"case-test-{uuid.uuid4().hex[:8]}"
    try:
        async with Worker(client, task_queue=tq, workflows=[CaseWorkflow], activities=[recorder.activity()],
                          workflow_runner=workflow_runner()):
            yield tq
    finally:
        for wid in _started.pop(tq, []):
            try:
                await client.get_workflow_handle(wid).terminate("test finished")
            except RPCError:
                pass  # already closed


async def start_case(client: Client, tq: str, *, duldung_valid_until: date | None = None, consent: bool = True,
                     config: TimerConfig | None = None) -> WorkflowHandle[Any, Any]:
    case_id = f"case-{uuid.uuid4()}"
    _started.setdefault(tq, []).append(case_id)
    return await client.start_workflow(
        CaseWorkflow.run,
        CaseWorkflowInput(case_id=case_id, unit="dd", created_by=COUNSELOR, consent_given=consent,
                          duldung_valid_until=duldung_valid_until,
                          config=config or TimerConfig(upsert_search_attributes=False)),
        id=case_id, task_queue=tq,
    )


async def update(handle: WorkflowHandle[Any, Any], action: str, inp: Any) -> CaseState:
    result: CaseState = await handle.execute_update(action, inp, result_type=CaseState)
    return result


async def refused(handle: WorkflowHandle[Any, Any], action: str, inp: Any) -> ApplicationError:
    """Run an update that must be refused; return the ApplicationError underneath."""
    try:
        await handle.execute_update(action, inp, result_type=CaseState)
    except WorkflowUpdateFailedError as exc:
        assert isinstance(exc.cause, ApplicationError), exc.cause
        return exc.cause
    raise AssertionError(f"{action} was accepted")


async def state(handle: WorkflowHandle[Any, Any]) -> CaseState:
    result: CaseState = await handle.query("state_query", result_type=CaseState)
    return result
