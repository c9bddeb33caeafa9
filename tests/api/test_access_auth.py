"""Authentication: web login with rate limit, session cookie, CSRF, tokens expired/revoked, body limits."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from starlette.requests import Request

from api import auth_service
from api.problems import Problem
from api.sessions import COOKIE, csrf_token
from core.settings import Settings
from store.models import ApiToken, AuditEvent, LoginAttempt
from tests.conftest import Api, person

PASSWORD = "richtig-geheim-42"


def web_client(app: Any, ip: str | None = None) -> httpx.AsyncClient:
    """A browser-like client without bearer token, from its own address (the per-address lock is shared)."""
    ip = ip or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://test")


@pytest.fixture
async def web(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(app) as client:
        yield client


async def login(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"username": name, "password": password})


async def test_login_sets_secure_session_cookie_and_csrf_guards_writes(app: Any, make_api: Any,
                                                                      web: httpx.AsyncClient, sessions: Any) -> None:
    api = await make_api("counselor", password=PASSWORD)
    r = await login(web, api.user.name)
    assert r.status_code == 200, r.text
    set_cookie = r.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE}=") and "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    assert "Secure" not in set_cookie  # base_url is http in tests; https is covered below
    token = r.json()["csrf_token"]
    assert r.json()["user"] == {"name": api.user.name, "role": "counselor", "institution": "counseling",
                                "unit": "dresden"}
    assert (await web.get("/api/v1/auth/csrf")).json()["csrf_token"] == token
    assert (await web.get("/api/v1/cases")).status_code == 200  # reads need no token
    body = {"person": person(), "consent_to_share": {"given": True, "date": "2026-11-02"}}
    r = await web.post("/api/v1/cases", json=body)
    assert r.status_code == 403 and r.json()["type"].endswith("/csrf")
    r = await web.post("/api/v1/cases", json=body, headers={"X-CSRF-Token": "0" * 32})
    assert r.status_code == 403
    r = await web.post("/api/v1/cases", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    # A second session of the same user (another device) outlives the first one's logout.
    other = web_client(app)
    assert (await login(other, api.user.name)).status_code == 200
    copied = web.cookies.get(COOKIE)
    assert copied
    # logout is a write too: needs the token, then the session is gone
    assert (await web.post("/api/v1/auth/logout")).status_code == 403
    r = await web.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token})
    assert r.status_code == 204 and 'bleibe_session=""' in r.headers["set-cookie"]
    assert (await web.get("/api/v1/cases")).status_code == 401
    # ... and ended on the server: a copy of the cookie kept from before the logout is refused.
    async with web_client(app) as thief:
        thief.cookies.set(COOKIE, copied)
        assert (await thief.get("/api/v1/cases")).status_code == 401, "a logged-out cookie must not work again"
    assert (await other.get("/api/v1/cases")).status_code == 200
    await other.aclose()
    async with sessions() as s:
        actions = set((await s.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == api.user.id))).all())
    assert {"login", "logout"} <= actions


async def test_cookie_is_secure_behind_https(app: Any, make_api: Any, web: httpx.AsyncClient) -> None:
    api = await make_api("counselor", password=PASSWORD)
    state = app.state.bleibe
    plain = state.settings
    state.settings = plain.model_copy(update={"public_url": "https://bleibe.example"})
    try:
        r = await login(web, api.user.name)
    finally:
        state.settings = plain
    assert r.status_code == 200 and "Secure" in r.headers["set-cookie"]


async def test_bearer_requests_need_no_csrf_token_and_csrf_endpoint_needs_a_session(counselor: Api) -> None:
    r = await counselor.post("/api/v1/cases", json={"person": person(), "consent_to_share": {"given": True}})
    assert r.status_code == 201
    assert (await counselor.get("/api/v1/auth/csrf")).status_code == 401


async def test_wrong_password_is_401_and_five_failures_lock_the_name(make_api: Any, app: Any) -> None:
    api = await make_api("authority_liaison", password=PASSWORD)
    async with web_client(app) as web:
        for _ in range(auth_service.MAX_FAILURES):
            r = await login(web, api.user.name, "falsch-falsch")
            assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        r = await login(web, api.user.name)  # even the right password: the name is locked
        assert r.status_code == 429
        assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
    async with web_client(app) as other_host:  # the lock is per name, whatever the address
        assert (await login(other_host, api.user.name)).status_code == 429


async def test_lock_ends_after_the_window(make_api: Any, app: Any, sessions: Any) -> None:
    api = await make_api("counselor", password=PASSWORD)
    async with web_client(app) as web:
        for _ in range(auth_service.MAX_FAILURES):
            await login(web, api.user.name, "falsch-falsch")
        assert (await login(web, api.user.name)).status_code == 429
        async with sessions() as s:  # age the failures past the window
            await s.execute(update(LoginAttempt).where(LoginAttempt.username == api.user.name)
                            .values(at=datetime.now(UTC) - auth_service.WINDOW - timedelta(seconds=5)))
            await s.commit()
        assert (await login(web, api.user.name)).status_code == 200


async def test_many_failures_from_one_address_lock_that_address(make_api: Any, app: Any) -> None:
    api = await make_api("counselor", password=PASSWORD)
    ip = "10.250.1.7"
    async with web_client(app, ip) as web:
        for i in range(auth_service.MAX_FAILURES_PER_IP):
            r = await login(web, f"niemand-{i}-{uuid.uuid4().hex[:6]}", "falsch-falsch")
            assert r.status_code == 401
        r = await login(web, api.user.name)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    async with web_client(app) as elsewhere:
        assert (await login(elsewhere, api.user.name)).status_code == 200


async def test_require_csrf_form_for_ui_posts(app: Any, settings: Settings) -> None:
    cookie = "c29tZS1jb29raWU="

    def request(with_cookie: bool) -> Request:
        headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if with_cookie else []
        return Request({"type": "http", "method": "POST", "path": "/cases", "headers": headers, "app": app,
                        "query_string": b""})

    auth_service.require_csrf_form(request(True), csrf_token(settings, cookie))
    good = csrf_token(settings, cookie)
    for req, token in ((request(True), None), (request(True), "x" * 32), (request(False), good)):
        with pytest.raises(Problem) as exc:
            auth_service.require_csrf_form(req, token)
        assert exc.value.status == 403


async def test_expired_token_is_401(make_api: Any, sessions: Any) -> None:
    api = await make_api("counselor")
    assert (await api.get("/api/v1/cases")).status_code == 200
    async with sessions() as s:
        await s.execute(update(ApiToken).where(ApiToken.user_id == api.user.id)
                        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        await s.commit()
    r = await api.get("/api/v1/cases")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert (await api.get("/api/v1/cases", headers={"Authorization": "Bearer blb_unknown"})).status_code == 401


async def test_cli_revoke_ends_tokens_and_sessions_of_a_running_service(make_api: Any, app: Any,
                                                                       settings: Settings) -> None:
    api = await make_api("counselor", password=PASSWORD)
    async with web_client(app) as web:
        assert (await login(web, api.user.name)).status_code == 200
        assert (await web.get("/api/v1/cases")).status_code == 200
        assert (await api.get("/api/v1/cases")).status_code == 200
        env = {**os.environ, "DATABASE_URL": settings.database_url, "BLEIBE_DATA_DIR": str(settings.data_dir)}
        bleibe = Path(sys.executable).parent / "bleibe"
        proc = await asyncio.to_thread(subprocess.run, [str(bleibe), "users", "revoke", api.user.name], env=env,
                                       capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert f"revoked user {api.user.name}" in proc.stdout
        assert (await api.get("/api/v1/cases")).status_code == 401
        assert (await web.get("/api/v1/cases")).status_code == 401
        assert (await login(web, api.user.name)).status_code == 401


async def test_oversize_bodies_are_413(counselor: Api, settings: Settings) -> None:
    big = b"x" * (settings.max_body_bytes + 1)
    r = await counselor.post("/api/v1/eligibility/check", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"y" * 65536

    r = await counselor.post("/api/v1/eligibility/check", content=chunks(),
                             headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["status"] == 413

    async def small() -> AsyncIterator[bytes]:
        yield b'{"person": '
        yield b'{}}'

    r = await counselor.post("/api/v1/eligibility/check", content=small(),
                             headers={"content-type": "application/json"})
    assert r.status_code == 422  # a small chunked body passes the limit and reaches validation
