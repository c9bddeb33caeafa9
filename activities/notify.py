"""The outbox sender: mails the notifications the projection wrote to the outbox, once, with retries.

It runs as a long-lived asyncio task in each worker process rather than as a Temporal workflow: the
outbox is already the durable queue (rows written in the projection's transaction), so a polling loop
with an atomic claim is all it needs, and a periodic workflow would only add history for every poll.

- Claim: a conditional UPDATE (`pending` → `sending`, or a `sending` row whose lease ran out because its
  worker died) takes a row; only one worker's UPDATE matches, so two workers never take the same row.
- Send: SMTP via aiosmtplib (`BLEIBE_SMTP_*`); without `BLEIBE_SMTP_HOST` the message goes to the log.
- Mark: `sent` in the same row right after the server accepted it. A worker dying between the two is the
  only way a message goes out again, after the lease, under the same Message-ID (derived from the row id),
  so mail systems and clients can drop the duplicate.
- Retry: exponential backoff (`attempts`, `next_attempt_at`); after `BLEIBE_OUTBOX_MAX_ATTEMPTS` → `failed`.

Messages carry the case reference and a link, never a name or another personal detail.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlparse

import aiosmtplib
import structlog
from sqlalchemy import and_, or_, select, update

from core.settings import Settings
from store.db import UNAVAILABLE_ERRORS, SessionMaker
from store.models import Case, OutboxMessage, User

log = structlog.get_logger(__name__)

SMTP_TIMEOUT = 30.0
# A claimed row belongs to its worker this long; then another worker may take it (the first one died).
LEASE = timedelta(seconds=SMTP_TIMEOUT * 4)
MAX_BACKOFF = timedelta(hours=6)
BATCH = 50

DEADLINES = {
    "eligibility_date": "Stichtag der Voraussetzungen", "document_due": "Unterlagenfrist",
    "review_sla": "Bearbeitungsfrist der Ausländerbehörde", "duldung_expiry": "Gültigkeit der Duldung",
    "fiktion_expiry": "Gültigkeit der Fiktionsbescheinigung", "appeal_deadline": "Rechtsbehelfsfrist",
}


class NoRecipients(Exception):
    """No active user of the recipient role (and unit) has an e-mail address."""


@dataclass
class Mail:
    subject: str
    body: str


def compose(msg: OutboxMessage, reference: str | None, base_url: str) -> Mail:
    """Subject and German text of a notification: kind, case reference and a link; nothing personal."""
    d = msg.details or {}
    base = base_url.rstrip("/")
    if msg.case_id is None:  # a joint meeting's announcement
        meeting_id = str(d.get("meeting_id", ""))
        when = d.get("date", "")
        return Mail(f"Bleibe: Austauschtreffen am {when}",
                    f"Für das Austauschtreffen am {when} gibt es Neuigkeiten ({msg.kind}).\n\n"
                    f"Tagesordnung: {base}/meetings/{meeting_id}\n")
    ref = reference or "(ohne Aktenzeichen)"
    link = f"{base}/cases/{msg.case_id}"
    deadline = DEADLINES.get(str(d.get("kind", "")), "Frist")
    texts = {
        "deadline_reminder": (f"Erinnerung: {deadline} endet bald", f"im Fall {ref} endet bald die {deadline}."),
        "deadline_missed": (f"Frist versäumt: {deadline}", f"im Fall {ref} ist die {deadline} abgelaufen."),
        "eligibility_reached": ("Voraussetzungen bald erfüllt",
                                f"der Fall {ref} erreicht den Stichtag; die Unterlagen können gesammelt werden."),
        "review_escalated": ("Eskalation: Bearbeitungsfrist überschritten",
                             f"im Fall {ref} hat die Ausländerbehörde innerhalb der Bearbeitungsfrist nicht "
                             "reagiert. Der Fall wird der Sachgebietsleitung vorgelegt."),
    }
    subject, sentence = texts.get(msg.kind, ("Neuigkeit", f"im Fall {ref} gibt es eine Neuigkeit."))
    return Mail(f"Bleibe: {subject} ({ref})",
                f"Guten Tag,\n\n{sentence}\n\nZum Fall: {link}\n\n"
                "Diese Nachricht wurde automatisch von Bleibe versandt.\n")


def message_id(msg_id: int, settings: Settings) -> str:
    """The same Message-ID for every attempt of one outbox row, so a rare second delivery is recognisable."""
    domain = urlparse(settings.base_url).hostname or "bleibe.local"
    return f"<outbox-{msg_id}@{domain}>"


class OutboxSender:
    """Polls the outbox and sends due messages; `run` until `stop` is set."""

    def __init__(self, sessions: SessionMaker, settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        log.info("outbox sender started", smtp=self.settings.smtp_host or "log")
        while not stop.is_set():
            try:
                await self.send_due()
            except UNAVAILABLE_ERRORS as exc:
                log.warning("outbox: database unavailable", error=type(exc).__name__)
            except Exception:  # the loop must survive anything one message does
                log.exception("outbox: unexpected error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.outbox_poll_seconds)

    async def send_due(self, now: datetime | None = None) -> int:
        """Claim and send every due message; returns how many were sent in this round."""
        sent = 0
        while True:
            ids = await self._due_ids(now or datetime.now(UTC))
            if not ids:
                return sent
            for msg_id in ids:
                if await self._claim(msg_id, now or datetime.now(UTC)):
                    sent += await self._deliver(msg_id)
            if len(ids) < BATCH:
                return sent

    async def _due_ids(self, now: datetime) -> list[int]:
        async with self.sessions() as s:
            return list(await s.scalars(
                select(OutboxMessage.id).where(self._due(now)).order_by(OutboxMessage.id).limit(BATCH)
            ))

    @staticmethod
    def _due(now: datetime) -> object:
        ready = or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)
        return or_(and_(OutboxMessage.state == "pending", ready),
                   and_(OutboxMessage.state == "sending", OutboxMessage.next_attempt_at <= now))

    async def _claim(self, msg_id: int, now: datetime) -> bool:
        """Take the row if it is still due; exactly one concurrent caller's UPDATE matches."""
        async with self.sessions() as s, s.begin():
            res = await s.execute(
                update(OutboxMessage).where(OutboxMessage.id == msg_id, self._due(now))
                .values(state="sending", attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            )
            return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def _deliver(self, msg_id: int) -> int:
        async with self.sessions() as s:
            msg = await s.get(OutboxMessage, msg_id)
            if msg is None:
                return 0
            reference = await s.scalar(select(Case.reference).where(Case.id == msg.case_id)) if msg.case_id else None
            users = select(User.email).where(User.role == msg.recipient_role, User.email.is_not(None),
                                             User.revoked_at.is_(None))
            if msg.unit and msg.recipient_role == "counselor":
                # A case's unit is its counseling team; the authority is not organised by those units.
                users = users.where(User.unit == msg.unit)
            recipients = sorted(set(await s.scalars(users)))
        mail = compose(msg, reference, self.settings.base_url)
        bound = log.bind(outbox_id=msg_id, kind=msg.kind, case_id=msg.case_id, attempt=msg.attempts)
        try:
            if not self.settings.smtp_host:
                bound.info("notification (no SMTP host: logged only)", subject=mail.subject, to=recipients,
                           body=mail.body)
            elif not recipients:
                raise NoRecipients(f"keine Empfänger mit E-Mail-Adresse für {msg.recipient_role}")
            else:
                await self._smtp(self._email(msg_id, mail, recipients))
        except (aiosmtplib.SMTPException, OSError, TimeoutError, NoRecipients) as exc:
            await self._failed(msg_id, msg.attempts, f"{type(exc).__name__}: {exc}"[:500])
            bound.warning("notification not sent", error=type(exc).__name__)
            return 0
        await self._mark(msg_id, state="sent", sent_at=datetime.now(UTC), next_attempt_at=None, last_error=None)
        bound.info("notification sent", recipients=len(recipients))
        return 1

    def _email(self, msg_id: int, mail: Mail, recipients: list[str]) -> EmailMessage:
        em = EmailMessage()
        em["From"] = self.settings.mail_from
        em["To"] = ", ".join(recipients)
        em["Subject"] = mail.subject
        em["Message-ID"] = message_id(msg_id, self.settings)
        em["Date"] = format_datetime(datetime.now(UTC))
        em["Auto-Submitted"] = "auto-generated"
        em.set_content(mail.body)
        return em

    async def _smtp(self, em: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            em, hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_user,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_tls == "tls", start_tls=s.smtp_tls == "starttls",
            timeout=SMTP_TIMEOUT,
        )

    async def _failed(self, msg_id: int, attempts: int, error: str) -> None:
        if attempts >= self.settings.outbox_max_attempts:
            await self._mark(msg_id, state="failed", next_attempt_at=None, last_error=error)
            log.error("notification given up", outbox_id=msg_id, attempts=attempts)
            return
        delay = min(timedelta(seconds=self.settings.outbox_backoff_seconds * 2 ** (attempts - 1)), MAX_BACKOFF)
        await self._mark(msg_id, state="pending", next_attempt_at=datetime.now(UTC) + delay, last_error=error)

    async def _mark(self, msg_id: int, **values: object) -> None:
        async with self.sessions() as s, s.begin():
            await s.execute(update(OutboxMessage).where(OutboxMessage.id == msg_id, OutboxMessage.state == "sending")
                            .values(**values).execution_options(synchronize_session=False))
