"""The outbox sender against a real local SMTP server (aiosmtpd): once, retried, given up, no personal data."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from activities.notify import OutboxSender
from core.temporal import free_port
from store.models import OutboxMessage
from tests.api.ops_fixtures import plant_case, plant_user, private_database
from tests.conftest import make_settings

PLANTED_GIVEN, PLANTED_FAMILY = "Zarifa", "Haidarizadeh"


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and can refuse the next N messages with 451."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Bitte später erneut versuchen"
        self.messages.append(envelope)
        return "250 OK"

    def parsed(self) -> list[email.message.Message]:
        return [email.message_from_bytes(m.content) for m in self.messages]


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[tuple[str, Any]]:
    async with private_database(tmp_path) as found:
        yield found


def sender(db: tuple[str, Any], tmp_path: Path, port: int | None, **over: Any) -> OutboxSender:
    env: dict[str, Any] = {"BLEIBE_SMTP_TLS": "none", "BLEIBE_PUBLIC_URL": "https://bleibe.example.org",
                           "BLEIBE_MAIL_FROM": "bleibe@example.org", "BLEIBE_OUTBOX_BACKOFF_SECONDS": 60, **over}
    if port:
        env.update(BLEIBE_SMTP_HOST="127.0.0.1", BLEIBE_SMTP_PORT=port)
    return OutboxSender(db[1], make_settings(db[0], tmp_path, **env))


async def seed(sessions: Any, n: int = 1, kind: str = "deadline_missed") -> tuple[str, str, list[int]]:
    """Counselors of two units and a liaison with addresses, one case of a named person, n outbox rows."""
    async with sessions() as s:
        mine = await plant_user(s, "counselor", "dd", "anna@beratung.example")
        await plant_user(s, "counselor", "lz", "other-unit@beratung.example")
        await plant_user(s, "counselor", "dd", None)  # no address: not a recipient
        await plant_user(s, "authority_liaison", None, "abh@stadt.example")
        case = await plant_case(s, mine, stage="document_collection", given_name=PLANTED_GIVEN,
                                family_name=PLANTED_FAMILY)
        rows = [OutboxMessage(dedupe_key=f"{case.id}:{i}:{kind}:counselor", kind=kind, case_id=case.id,
                              recipient_role="counselor", unit="dd",
                              details={"kind": "document_due", "due": "2026-12-15"}) for i in range(n)]
        s.add_all(rows)
        await s.commit()
        return case.id, case.reference, [r.id for r in rows]


async def states(sessions: Any) -> dict[int, OutboxMessage]:
    async with sessions() as s:
        return {m.id: m for m in await s.scalars(select(OutboxMessage))}


async def test_sent_once_to_the_unit_without_personal_data(db: Any, smtp: Any, tmp_path: Path) -> None:
    box, port = smtp
    cid, ref, [mid] = await seed(db[1])
    out = sender(db, tmp_path, port)
    assert await out.send_due() == 1
    assert await out.send_due() == 0  # sent is sent: a second round sends nothing
    assert len(box.messages) == 1
    env = box.messages[0]
    assert env.rcpt_tos == ["anna@beratung.example"] and env.mail_from == "bleibe@example.org"
    msg = box.parsed()[0]
    assert msg["Message-ID"] == f"<outbox-{mid}@bleibe.example.org>"
    text = msg["Subject"] + msg.get_payload(decode=True).decode()
    assert ref in text and f"https://bleibe.example.org/cases/{cid}" in text
    assert "Unterlagenfrist" in text and "abgelaufen" in text
    for personal in (PLANTED_GIVEN, PLANTED_FAMILY, "2026-12-15"):
        assert personal not in text
    row = (await states(db[1]))[mid]
    assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None and row.last_error is None


async def test_retried_with_backoff_after_a_refusal(db: Any, smtp: Any, tmp_path: Path) -> None:
    box, port = smtp
    _, _, [mid] = await seed(db[1])
    box.refuse = 1
    out = sender(db, tmp_path, port)
    assert await out.send_due() == 0
    row = (await states(db[1]))[mid]
    assert row.state == "pending" and row.attempts == 1 and "451" in (row.last_error or "")
    wait = row.next_attempt_at.replace(tzinfo=row.next_attempt_at.tzinfo or UTC) - datetime.now(UTC)
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)  # first backoff: BLEIBE_OUTBOX_BACKOFF_SECONDS
    assert await out.send_due() == 0 and box.messages == []  # not due yet
    assert await out.send_due(now=datetime.now(UTC) + timedelta(minutes=2)) == 1
    assert len(box.messages) == 1
    row = (await states(db[1]))[mid]
    assert row.state == "sent" and row.attempts == 2


async def test_given_up_after_max_attempts(db: Any, tmp_path: Path) -> None:
    from api.ops_metrics import NOTIFICATION_FAILURES, OUTBOX, refresh_ops_gauges

    _, _, [mid] = await seed(db[1])
    out = sender(db, tmp_path, free_port(), BLEIBE_OUTBOX_MAX_ATTEMPTS=2)  # nobody listens on that port
    later = datetime.now(UTC)
    for _ in range(3):
        await out.send_due(now=later)
        later += timedelta(hours=1)
    row = (await states(db[1]))[mid]
    assert row.state == "failed" and row.attempts == 2 and row.last_error
    async with db[1]() as s:
        await refresh_ops_gauges(s)
    assert NOTIFICATION_FAILURES._value.get() == 1
    assert OUTBOX.labels(state="failed")._value.get() == 1


async def test_two_senders_never_take_the_same_row(db: Any, smtp: Any, tmp_path: Path) -> None:
    box, port = smtp
    _, _, ids = await seed(db[1], n=12)
    a, b = sender(db, tmp_path, port), sender(db, tmp_path, port)
    sent = await asyncio.gather(a.send_due(), b.send_due())
    assert sum(sent) == 12
    assert sorted(m["Message-ID"] for m in box.parsed()) == sorted(f"<outbox-{i}@bleibe.example.org>" for i in ids)
    assert {r.state for r in (await states(db[1])).values()} == {"sent"}


async def test_without_smtp_host_the_message_goes_to_the_log(db: Any, tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    _, ref, [mid] = await seed(db[1], kind="review_escalated")
    with capture_logs() as logs:
        assert await sender(db, tmp_path, None).send_due() == 1
    assert (await states(db[1]))[mid].state == "sent"
    entry = next(e for e in logs if e["event"].startswith("notification (no SMTP host"))
    assert "Eskalation" in entry["subject"] and ref in entry["body"] and PLANTED_FAMILY not in entry["body"]


async def test_worker_loop_sends_and_stops(db: Any, smtp: Any, tmp_path: Path) -> None:
    box, port = smtp
    await seed(db[1], n=2)
    stop = asyncio.Event()
    task = asyncio.create_task(sender(db, tmp_path, port, BLEIBE_OUTBOX_POLL_SECONDS=0.05).run(stop))
    for _ in range(100):
        if len(box.messages) == 2:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert len(box.messages) == 2
