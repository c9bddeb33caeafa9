"""Request dependencies: the database session, the Temporal client, the current user."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from temporalio.client import Client
from temporalio.service import RetryConfig

from api.problems import Problem, unavailable
from core.settings import Settings
from store.db import UNAVAILABLE_ERRORS, SessionMaker
from store.models import User
from store.users import user_for_token

RPC_TIMEOUT = timedelta(seconds=20)


class TemporalHolder:
    """Connects to Temporal on first use and again after a failure, so the API starts without it."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                from core.temporal import connect, runtime_with_metrics

                runtime, _ = runtime_with_metrics()
                try:
                    self._client = await asyncio.wait_for(
                        connect(self.settings, runtime=runtime, retry_config=RetryConfig(max_retries=2)), 10
                    )
                except Exception as exc:
                    raise unavailable("Temporal") from exc
            return self._client


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionMaker
    temporal: TemporalHolder


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.bleibe
    return state


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request; committed by the route where it writes; database faults become 503."""
    session = app_state(request).sessions()
    try:
        yield session
    except UNAVAILABLE_ERRORS as exc:
        await _safe_rollback(session)
        raise unavailable("Die Datenbank") from exc
    finally:
        try:
            await session.close()
        except UNAVAILABLE_ERRORS:
            pass


async def _safe_rollback(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except UNAVAILABLE_ERRORS:
        pass


async def temporal_client(request: Request) -> Client:
    return await app_state(request).temporal.get()


SessionDep = Annotated[AsyncSession, Depends(db_session)]
TemporalDep = Annotated[Client, Depends(temporal_client)]
StateDep = Annotated[AppState, Depends(app_state)]


async def current_user(request: Request, session: SessionDep) -> User:
    """The user behind the bearer token (API) or the session cookie (UI); 401 otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    user: User | None = None
    if scheme.lower() == "bearer" and token.strip():
        user = await user_for_token(session, token.strip())
    else:
        from api.sessions import user_from_cookie

        user = await user_from_cookie(request, session)
    if user is None:
        raise Problem(401, "Anmeldung fehlt oder ist ungültig (Bearer-Token oder Sitzung).",
                      headers={"WWW-Authenticate": "Bearer"})
    if request.url.path.startswith("/api/"):
        from api.auth_service import require_csrf

        require_csrf(request)  # cookie-authenticated writes need X-CSRF-Token; bearer requests are exempt
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: str):  # noqa: ANN201 - a dependency factory
    """A dependency that admits only the given roles (403 otherwise)."""

    async def dep(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Problem(403, "Diese Rolle darf das nicht.")
        return user

    return Depends(dep)
