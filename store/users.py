"""Users and their credentials: API tokens (sha256 at rest) and web passwords (argon2)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rules.lifecycle import ROLE_INSTITUTION, Role
from store.models import ApiToken, User

_hasher = PasswordHasher()
TOKEN_PREFIX = "blb_"


class UserError(ValueError):
    """A user cannot be created or changed as asked (duplicate name, unknown role, …)."""


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so a fast hash is enough at rest (no dictionary to try)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        _hasher.hash(password)  # same work either way: no timing hint that the user has no password
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def create_user(session: AsyncSession, *, name: str, role: str, unit: str | None = None,
                      password: str | None = None, email: str | None = None) -> tuple[User, str]:
    """Create a user with a first API token; returns the user and the token in clear (shown once)."""
    try:
        r = Role(role)
    except ValueError as exc:
        raise UserError(f"unknown role {role!r}; roles: {', '.join(x.value for x in Role)}") from exc
    name = name.strip()
    if not name or len(name) > 120:
        raise UserError("name must be 1 to 120 characters")
    if await session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"a user named {name!r} exists already")
    if password is not None and len(password) < 8:
        raise UserError("password must have at least 8 characters")
    if email is not None and (len(email) > 254 or "@" not in email or any(c.isspace() for c in email)):
        raise UserError(f"not an e-mail address: {email!r}")
    user = User(name=name, role=r.value, institution=ROLE_INSTITUTION[r].value, unit=unit, email=email,
                password_hash=hash_password(password) if password else None)
    session.add(user)
    await session.flush()
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    await session.flush()
    return user, token


async def revoke_user(session: AsyncSession, name: str) -> User:
    """Revoke a user and every token of theirs; their sessions end at the next request."""
    user = await session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(f"no user named {name!r}")
    now = datetime.now(UTC)
    user.revoked_at = now
    await session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    return user


async def user_for_token(session: AsyncSession, token: str) -> User | None:
    """The active user owning this token, or None (unknown, expired or revoked)."""
    row = await session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token))
    )
    found = row.first()
    if found is None:
        return None
    user, tok = found
    now = datetime.now(UTC)
    if user.revoked_at is not None or tok.revoked_at is not None:
        return None
    if tok.expires_at is not None and _aware(tok.expires_at) <= now:
        return None
    return user


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
