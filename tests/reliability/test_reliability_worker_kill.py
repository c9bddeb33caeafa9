"""A worker killed (SIGKILL) in the middle of the projection activity and started again loses nothing.

The worker runs as a real `bleibe worker` process against this test's own Temporal server and SQLite
file; BLEIBE_TEST_PROJECTION_DELAY_MS stretches every projection (a pause before and after its
transaction) so the kill lands while activities run, some with their rows already committed.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from typing import Any

from core.temporal import connect
from schemas.case import CaseState
from store.db import make_engine, make_sessionmaker
from tests.conftest import new_case
from tests.reliability.conftest import Site, api_for, user_api
from tests.reliability.helpers import act_until_done, assert_consistent, audit_actions

CASES = 6


async def _retried_activities(client: Any, case_id: str) -> int:
    """How many projection runs of this case needed more than one attempt."""
    n = 0
    async for e in client.get_workflow_handle(case_id).fetch_history_events():
        started = e.activity_task_started_event_attributes
        if e.HasField("activity_task_started_event_attributes") and started.attempt > 1:
            n += 1
    return n


async def test_sigkill_mid_activity_then_restart_every_case_completes_without_gap_or_duplicate(site: Site) -> None:
    settings = site.settings
    client = await connect(settings)
    first = site.start_worker("worker-1", BLEIBE_TEST_PROJECTION_DELAY_MS="700")
    engine = make_engine(site.db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with api_for(settings, client) as app:
            counselor = await user_api(app, sessions, "counselor")
            cases = [(await new_case(counselor))["id"] for _ in range(CASES)]

            async def work(case_id: str) -> int:
                """complete_intake, two notes, withdraw: each retried with its key while the service is down."""
                steps: list[tuple[str, dict[str, Any]]] = [
                    ("complete_intake", {"pathway": "25b"}),
                    ("add_note", {"text": "Termin vereinbart", "visibility": "shared"}),
                    ("add_note", {"text": "Unterlagen angefragt", "visibility": "internal"}),
                    ("withdraw", {"reason": "Person ist verzogen"}),
                ]
                retries = 0
                for action, body in steps:
                    _, n = await act_until_done(counselor, case_id, action, body, f"{action}-{uuid.uuid4()}")
                    retries += n
                return retries

            running = [asyncio.create_task(work(cid)) for cid in cases]
            await asyncio.sleep(2.5)  # every case is inside a (slow) projection now
            assert first.running, first.tail()
            assert first.stop(signal.SIGKILL) == -signal.SIGKILL
            await asyncio.sleep(1)
            site.start_worker("worker-2", BLEIBE_TEST_PROJECTION_DELAY_MS="50")
            await asyncio.wait_for(asyncio.gather(*running), timeout=150)

            for cid in cases:
                final = await client.get_workflow_handle(cid, result_type=CaseState).result()
                assert final.stage == "closed" and final.outcome == "withdrawn"
                state = await assert_consistent(sessions, client, cid)
                assert state.seq == final.seq
                assert await audit_actions(sessions, cid) == [
                    "create_case", "complete_intake", "add_note", "add_note", "withdraw",
                ]
            # The kill really hit running projections: their retries are in the histories.
            retried = sum([await _retried_activities(client, cid) for cid in cases])
            assert retried >= 1
    finally:
        await engine.dispose()
