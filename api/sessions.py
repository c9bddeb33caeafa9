"""Web sessions: an HMAC-signed cookie naming the user, with a CSRF token bound to it.

The cookie is HttpOnly, SameSite=Lax and Secure when the service runs behind HTTPS. Revoking a user
ends their sessions at the next request, because every request loads the user again. Logging out ends
that one session on the server too (`ended_sessions`), so a copy of the cookie is worthless afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime
from typing import NamedTuple

from fastapi import Request
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from store.models import AuditEvent, EndedSession, User

COOKIE = "bleibe_session"
MAX_AGE_S = 8 * 3600  # one working day


def session_secret(settings: Settings) -> bytes:
    """The configured secret, or one kept in the data folder for the embedded stack."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    path = settings.data_dir / "session-secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def issue(settings: Settings, user: User) -> str:
    """A new cookie value for `user` (a fresh nonce each login: no session fixation)."""
    payload = f"{user.id}:{int(time.time()) + MAX_AGE_S}:{secrets.token_urlsafe(12)}"
    raw = f"{payload}:{_sign(session_secret(settings), payload)}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


class _Cookie(NamedTuple):
    user_id: int
    expires: int  # unix seconds
    payload: str  # what the signature covers; its hash names the session


def _parse(settings: Settings, cookie: str) -> _Cookie | None:
    try:
        raw = base64.urlsafe_b64decode(cookie.encode()).decode()
        uid, exp, nonce, sig = raw.split(":")
    except (ValueError, UnicodeDecodeError):
        return None
    payload = f"{uid}:{exp}:{nonce}"
    if not hmac.compare_digest(sig, _sign(session_secret(settings), payload)) or int(exp) < time.time():
        return None
    return _Cookie(int(uid), int(exp), payload)


def csrf_token(settings: Settings, cookie: str) -> str:
    return _sign(session_secret(settings), "csrf:" + cookie)[:32]


def check_csrf(settings: Settings, request: Request, token: str | None) -> bool:
    cookie = request.cookies.get(COOKIE)
    return bool(cookie and token and hmac.compare_digest(token, csrf_token(settings, cookie)))


async def user_from_cookie(request: Request, session: AsyncSession) -> User | None:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    settings: Settings = request.app.state.bleibe.settings
    parsed = _parse(settings, cookie)
    if parsed is None:
        return None
    if await session.get(EndedSession, _session_hash(parsed.payload)) is not None:
        return None  # logged out: this cookie ended on the server
    user = await session.get(User, parsed.user_id)
    if user is None or user.revoked_at is not None:
        return None
    # Cookie-authenticated writes must carry the CSRF token (header or form field, checked by the UI).
    request.state.via_cookie = True
    return user


def _session_hash(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()


async def end_session(request: Request, session: AsyncSession, user: User) -> None:
    """Logout: refuse the request's session cookie from now on, and write the audit row (one commit)."""
    settings: Settings = request.app.state.bleibe.settings
    now = datetime.now(UTC)
    parsed = _parse(settings, request.cookies.get(COOKIE, ""))
    if parsed is not None and parsed.user_id == user.id:
        key = _session_hash(parsed.payload)
        if await session.get(EndedSession, key) is None:
            expires = datetime.fromtimestamp(parsed.expires, UTC)
            session.add(EndedSession(session_hash=key, user_id=user.id, expires_at=expires))
    # Rows of cookies that have run out anyway are no longer needed.
    await session.execute(delete(EndedSession).where(EndedSession.expires_at < now))
    session.add(AuditEvent(at=now, actor_id=user.id, role=user.role, institution=user.institution, action="logout",
                           details={}, request_id=getattr(request.state, "request_id", None)))
    await session.commit()
