"""The scenario behind the patching demo: a note by the authority during review, then a long wait.

Version 1 of CaseWorkflow escalated 28 days after the case entered review, whatever the authority
noted meanwhile. Version 2 (patch `SLA_ON_AUTHORITY_NOTE`) counts the note as an authority action and
restarts the review SLA. `case_sla_note_v1.json` was recorded with version 1:
    .venv/bin/python -m tests.deploy.patch_scenario
(run against version-1 code only: the file is the evidence of how old cases look).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from rules.checklists import checklist
from schemas.case import (
    AddNoteInput,
    CompleteIntakeInput,
    RecordDocumentInput,
    SubmitToAuthorityInput,
    TimerConfig,
    WithdrawInput,
)
from tests.workflows.helpers import COUNSELOR, LIAISON, Recorder, case_worker, start_case, update

HISTORY_V1 = Path(__file__).parent / "histories" / "case_sla_note_v1.json"
CONFIG = TimerConfig(review_sla_days=28, upsert_search_attributes=False)


async def run_scenario(env: WorkflowEnvironment) -> tuple[str, Recorder, Any]:
    """Review, a liaison's note on day 10, 20 more days, withdrawal; returns (history JSON, recorder, handle)."""
    rec = Recorder()
    async with case_worker(env.client, rec) as tq:
        h = await start_case(env.client, tq, config=CONFIG)
        await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25b"))
        for t in checklist("25b"):
            await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type=t, state="received"))
        await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
        await env.sleep(timedelta(days=10))
        await update(h, "add_note", AddNoteInput(actor=LIAISON, text_id="n-1", visibility="internal"))
        await env.sleep(timedelta(days=20))  # day 30: past the first SLA, inside a restarted one
        await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))
        await h.result()
        history = await h.fetch_history()
    return history.to_json(), rec, h


async def record() -> None:
    bin_dir = Path(sys.executable).parent
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(bin_dir / "temporal-test-server"), data_converter=pydantic_data_converter
    )
    try:
        text, rec, h = await run_scenario(env)
    finally:
        await env.shutdown()
    HISTORY_V1.write_text(text)
    print(f"recorded {HISTORY_V1} ({rec.actions(h.id)})")


if __name__ == "__main__":
    asyncio.run(record())
    os._exit(0)  # the Temporal core runtime can abort at interpreter exit (sdk-python#300)
