"""Web login with brute-force protection, and the CSRF checks of cookie-authenticated requests.

Failed logins are counted per username (5) and per client address (20) in a sliding window
(`store.models.LoginAttempt`); past the limit every further try is refused with 429 and Retry-After,
whether or not the password is right, so guessing gains nothing while the lock lasts.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import structlog
from fastapi import Request
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import Problem
from api.sessions import check_csrf
from core.settings import Settings
from store.models import AuditEvent, LoginAttempt, User
from store.users import verify_password

log = structlog.get_logger(__name__)

MAX_FAILURES = 5  # per username within WINDOW
# Per client address: higher, because an office behind one NAT address has many honest typists.
MAX_FAILURES_PER_IP = 20
WINDOW = timedelta(minutes=15)
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT_PREFIX = "/api/v1/codec/"


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


async def _lock_remaining(session: AsyncSession, column: object, value: str, now: datetime, limit: int) -> int:
    """Seconds until the oldest counted failure leaves the window, or 0 when not locked."""
    since = now - WINDOW
    stmt = select(func.count(), func.min(LoginAttempt.at)).where(
        column == value, LoginAttempt.success.is_(False), LoginAttempt.at > since  # type: ignore[operator]
    )
    count, oldest = (await session.execute(stmt)).one()
    if count < limit or oldest is None:
        return 0
    return max(1, math.ceil((_aware(oldest) + WINDOW - now).total_seconds()))


async def login(session: AsyncSession, settings: Settings, username: str, password: str,
                client_ip: str) -> User | None:
    """The user if the password is right; None if not; Problem 429 while the name or address is locked."""
    username = username.strip()[:120]
    client_ip = (client_ip or "unknown")[:64]
    now = datetime.now(UTC)
    wait = max(await _lock_remaining(session, LoginAttempt.username, username, now, MAX_FAILURES),
               await _lock_remaining(session, LoginAttempt.ip, client_ip, now, MAX_FAILURES_PER_IP))
    if wait:
        log.warning("login locked", ip=client_ip)
        raise Problem(429, f"Zu viele fehlgeschlagene Anmeldungen. Bitte in {math.ceil(wait / 60)} Minuten "
                           "erneut versuchen.", headers={"Retry-After": str(wait)})
    user = await session.scalar(select(User).where(User.name == username))
    ok = verify_password(user.password_hash if user else None, password)
    ok = ok and user is not None and user.revoked_at is None
    session.add(LoginAttempt(username=username, ip=client_ip, at=now, success=ok))
    if ok and user is not None:
        session.add(AuditEvent(at=now, actor_id=user.id, role=user.role, institution=user.institution,
                               action="login", details={}))
        # A successful login forgives this name's earlier failures (not the address's: one host may try many).
        await session.execute(delete(LoginAttempt).where(LoginAttempt.username == username,
                                                         LoginAttempt.success.is_(False)))
    # Old rows only serve the window; keep the table small.
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - 4 * WINDOW))
    await session.commit()
    if not ok:
        log.info("login failed", ip=client_ip)
        return None
    assert user is not None
    log.info("login", user_id=user.id)
    return user


def require_csrf(request: Request) -> None:
    """403 unless a cookie-authenticated write carries the session's CSRF token in X-CSRF-Token."""
    if request.method in SAFE_METHODS or not getattr(request.state, "via_cookie", False):
        return
    if request.url.path.startswith(CSRF_EXEMPT_PREFIX):
        return  # the payload codec changes nothing; its callers are checked by origin (api.routes.codec)
    token = request.headers.get(CSRF_HEADER)
    if not check_csrf(request.app.state.bleibe.settings, request, token):
        raise Problem(403, "CSRF-Token fehlt oder passt nicht zur Sitzung (Header X-CSRF-Token).",
                      type_="https://bleibe.example/problems/csrf")


def require_csrf_form(request: Request, token: str | None) -> None:
    """For UI form posts: 403 unless the form's `csrf_token` field matches the session cookie."""
    if not check_csrf(request.app.state.bleibe.settings, request, token):
        raise Problem(403, "Das Formular ist abgelaufen oder stammt nicht aus dieser Sitzung.",
                      type_="https://bleibe.example/problems/csrf")
