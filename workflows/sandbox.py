"""The workflow sandbox used by every worker (and the tests and replayer).

`rules`, `schemas` and their libraries (`holidays` with `dateutil`, pydantic) are deterministic and
pure, so they are passed through: imported once outside the sandbox instead of re-imported per run.
`holidays` loads a state's calendar lazily on first use, which inside the sandbox would trip its
restriction on `time.localtime` (dateutil's parser reads the clock at import).
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSTHROUGH = ("rules", "schemas", "holidays", "dateutil", "pydantic", "pydantic_core", "zoneinfo")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))
