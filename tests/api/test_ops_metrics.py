"""/metrics: actions per type, deadline misses, outbox and notification failures beside the request latency."""

from __future__ import annotations

import re

from tests.conftest import Api, new_case


async def test_metrics_show_actions_deadlines_and_notifications(counselor: Api, ops: Api) -> None:
    case = await new_case(counselor)
    await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    await counselor.act(case["id"], "submit_to_authority", expect=409)  # checklist incomplete: refused
    body = (await ops.get("/metrics")).text

    def value(pattern: str) -> float:
        m = re.search(pattern + r" ([0-9.e+]+)$", body, re.M)
        assert m, pattern
        return float(m.group(1))

    assert value(r'bleibe_case_actions_total\{action="complete_intake",result="ok"\}') >= 1
    assert value(r'bleibe_case_actions_total\{action="submit_to_authority",result="refused"\}') >= 1
    assert value(r'bleibe_outbox_messages\{state="failed"\}') >= 0
    assert value(r"bleibe_notification_failures") >= 0
    assert "# TYPE bleibe_deadline_misses gauge" in body
    assert "bleibe_http_request_duration_seconds_bucket" in body
