"""Record representative CaseWorkflow histories for the replay test.

Run once per released workflow version and commit the JSON files:
    .venv/bin/python -m tests.workflows.record_histories
Payloads use the plain Pydantic converter (no encryption), so the files replay without a key; the data
is invented. The replay test then fails CI when a workflow change breaks determinism for these cases.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date, timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from rules.checklists import checklist
from schemas.case import (
    AcknowledgeInput,
    AddNoteInput,
    CompleteIntakeInput,
    DecideInput,
    MeetingOutcomeInput,
    PrepareDecisionInput,
    RecordDocumentInput,
    RecordInterimInput,
    ReferToMeetingInput,
    RequestDocumentsInput,
    SubmitToAuthorityInput,
    TimerConfig,
    WithdrawInput,
)
from tests.workflows.helpers import COUNSELOR, LEAD, LIAISON, Recorder, case_worker, start_case, update

HERE = Path(__file__).parent / "histories"
BIN = Path(os.sys.executable).parent  # type: ignore[attr-defined]
CONFIG = TimerConfig(upsert_search_attributes=False)


async def scenario_grant(env: WorkflowEnvironment, tq: str) -> str:
    h = await start_case(env.client, tq, config=CONFIG, duldung_valid_until=date(2027, 6, 30))
    await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25b"))
    for t in checklist("25b"):
        await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type=t, state="received"))
    await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
    await update(h, "acknowledge", AcknowledgeInput(actor=LIAISON, file_number="ABH-1"))
    now = (await env.get_current_time()).date()
    await update(h, "request_documents", RequestDocumentsInput(actor=LIAISON, documents=["payslips"],
                                                               due=now + timedelta(days=20)))
    await env.sleep(timedelta(days=15))  # reminder fires
    await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type="payslips", state="received"))
    await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
    await update(h, "refer_to_meeting", ReferToMeetingInput(actor=LIAISON, meeting_id="meeting-2030-01-08"))
    await h.signal("meeting_outcome", MeetingOutcomeInput(meeting_id="meeting-2030-01-08", outcome="decision_ready",
                                                          actor=LEAD))
    await update(h, "add_note", AddNoteInput(actor=LIAISON, text_id="n-1", visibility="internal"))
    await update(h, "decide", DecideInput(actor=LIAISON, outcome="granted", permit="25b",
                                          valid_until=date(2028, 11, 30)))
    await h.result()
    return h.id


async def scenario_refusal(env: WorkflowEnvironment, tq: str) -> str:
    h = await start_case(env.client, tq, config=CONFIG)
    now = (await env.get_current_time()).date()
    await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="25a",
                                                          eligible_from=now + timedelta(days=40)))
    await env.sleep(timedelta(days=13))  # eligibility wake-up
    for t in checklist("25a"):
        await update(h, "record_document", RecordDocumentInput(actor=COUNSELOR, type=t, state="received"))
    await update(h, "submit_to_authority", SubmitToAuthorityInput(actor=COUNSELOR))
    await env.sleep(timedelta(days=29))  # review SLA escalation
    await update(h, "record_interim", RecordInterimInput(actor=LIAISON, kind="duldung_extended",
                                                         valid_until=now + timedelta(days=200)))
    await update(h, "prepare_decision", PrepareDecisionInput(actor=LIAISON))
    await update(h, "decide", DecideInput(actor=LEAD, outcome="refused",
                                          notified_on=(await env.get_current_time()).date()))
    await h.result()  # appeal deadline
    return h.id


async def scenario_withdrawn(env: WorkflowEnvironment, tq: str) -> str:
    h = await start_case(env.client, tq, config=CONFIG, consent=False)
    await update(h, "complete_intake", CompleteIntakeInput(actor=COUNSELOR, pathway="60d"))
    await update(h, "withdraw", WithdrawInput(actor=COUNSELOR))
    await h.result()
    return h.id


SCENARIOS = {"grant": scenario_grant, "refusal": scenario_refusal, "withdrawn": scenario_withdrawn}


async def record(out: Path = HERE) -> list[Path]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"), data_converter=pydantic_data_converter
    )
    paths = []
    try:
        async with case_worker(env.client, Recorder()) as tq:
            for name, scenario in SCENARIOS.items():
                wid = await scenario(env, tq)
                history = await env.client.get_workflow_handle(wid).fetch_history()
                path = out / f"case_{name}.json"
                path.write_text(history.to_json())
                paths.append(path)
    finally:
        await env.shutdown()
    return paths


if __name__ == "__main__":
    for p in asyncio.run(record()):
        print(p)
    os._exit(0)
