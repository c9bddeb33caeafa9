"""Web sessions over JSON: login (sets the session cookie), logout, and the CSRF token of a session."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from api import auth_service
from api.deps import CurrentUser, SessionDep, StateDep
from api.problems import Problem
from api.schemas import Strict
from api.sessions import COOKIE, MAX_AGE_S, csrf_token, end_session, issue

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginBody(Strict):
    username: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=1000)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def secure_cookie(base_url: str) -> bool:
    return base_url.lower().startswith("https://")


@router.post("/login", summary="Log in with name and password; sets the session cookie")
async def login(body: LoginBody, request: Request, response: Response, st: StateDep,
                session: SessionDep) -> dict[str, object]:
    """200 with the user and the CSRF token; 401 for a wrong name or password; 429 while locked."""
    user = await auth_service.login(session, st.settings, body.username, body.password, client_ip(request))
    if user is None:
        raise Problem(401, "Benutzername oder Passwort ist falsch.")
    cookie = issue(st.settings, user)
    response.set_cookie(COOKIE, cookie, max_age=MAX_AGE_S, httponly=True, samesite="lax",
                        secure=secure_cookie(st.settings.base_url), path="/")
    return {"user": {"name": user.name, "role": user.role, "institution": user.institution, "unit": user.unit},
            "csrf_token": csrf_token(st.settings, cookie)}


@router.post("/logout", status_code=204, summary="End the web session (on the server; clears the cookie)")
async def logout(request: Request, st: StateDep, session: SessionDep, user: CurrentUser) -> Response:
    """Ends the web session on the server and clears its cookie; the audit log records the logout."""
    await end_session(request, session, user)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax",
                           secure=secure_cookie(st.settings.base_url))
    return response


@router.get("/csrf", summary="The CSRF token of the current web session")
async def csrf(request: Request, st: StateDep, user: CurrentUser) -> dict[str, str]:
    """For scripts of the UI: send it as X-CSRF-Token on every non-GET request; 401 without a session cookie."""
    cookie = request.cookies.get(COOKIE)
    if not cookie or not getattr(request.state, "via_cookie", False):
        raise Problem(401, "Nur mit einer Web-Sitzung (Cookie) gibt es ein CSRF-Token.")
    return {"csrf_token": csrf_token(st.settings, cookie), "header": auth_service.CSRF_HEADER}
