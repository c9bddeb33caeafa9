"""Web sessions: an HMAC-signed cookie naming the user, with a CSRF token bound to it.

The cookie is HttpOnly, SameSite=Lax and Secure when the service runs behind HTTPS. Revoking a user
ends their sessions at the next request, because every request loads the user again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from store.models import User

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


def _parse(settings: Settings, cookie: str) -> tuple[int, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cookie.encode()).decode()
        uid, exp, nonce, sig = raw.split(":")
    except (ValueError, UnicodeDecodeError):
        return None
    payload = f"{uid}:{exp}:{nonce}"
    if not hmac.compare_digest(sig, _sign(session_secret(settings), payload)) or int(exp) < time.time():
        return None
    return int(uid), payload


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
    user = await session.get(User, parsed[0])
    if user is None or user.revoked_at is not None:
        return None
    # Cookie-authenticated writes must carry the CSRF token (header or form field, checked by the UI).
    request.state.via_cookie = True
    return user
