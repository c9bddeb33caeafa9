"""Models and names of the retention workflow (deletion of personal data after a case is closed)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

RETENTION_WORKFLOW = "RetentionWorkflow"
RETENTION_SCHEDULE = "bleibe-retention"
DELETE_PERSONAL_DATA = "delete_personal_data"  # activity name


class RetentionWorkflowInput(BaseModel):
    """Cases closed more than `retention_days` ago lose their personal data (0 or less: none)."""

    retention_days: int = Field(ge=1)
    batch_size: int = Field(default=200, ge=1, le=5000)


class DeletePersonalDataInput(BaseModel):
    """One batch: cases closed before `closed_before`, at most `limit` of them."""

    closed_before: datetime
    limit: int = Field(ge=1)


class DeletePersonalDataResult(BaseModel):
    case_ids: list[str] = Field(default_factory=list)  # pseudonymous ids only, never a name or reference


class RetentionResult(BaseModel):
    deleted: int
    closed_before: datetime
