"""The staff web UI (German, server-rendered): pages per role that reuse the API's case and meeting flows."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from api import auth_service, casework, reports_service
from api.deps import SessionDep, StateDep, current_user
from api.ops_service import stuck_page
from api.problems import Problem
from api.schemas import CaseCreate
from api.sessions import COOKIE, MAX_AGE_S, check_csrf, csrf_token, end_session, issue
from api.ui import charts, forms, labels
from rules import eligibility
from rules.lifecycle import MINUTES_ROLES, OPEN_STAGES, Institution
from store.models import Case, Note, Person, User

log = structlog.get_logger("bleibe.ui")
BERLIN = ZoneInfo("Europe/Berlin")
HERE = Path(__file__).resolve().parent.parent
LOGIN_COOKIE = "bleibe_login"
OPS_PAGE = 100  # findings per page of the ops board
LEAD_STUCK = 10  # the oldest findings on the authority lead's start page; the rest on /ops
STATIC = {"style.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _date_de(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")
    return value.strftime("%d.%m.%Y") if isinstance(value, date) else str(value)


def _days_left(due: Any) -> str:
    if isinstance(due, str):
        due = date.fromisoformat(due[:10])
    n = (due - casework.today()).days
    if n == 0:
        return "heute"
    if n == 1:
        return "morgen"
    if n > 0:
        return f"noch {n} Tage"
    return "gestern" if n == -1 else f"seit {-n} Tagen überschritten"


templates.env.filters["date_de"] = _date_de
templates.env.filters["days_left"] = _days_left
templates.env.globals["label"] = labels.label
templates.env.globals["L"] = labels.TABLES
templates.env.globals["today"] = casework.today


# ---- helpers ------------------------------------------------------------------------------------------


def _nav(user: User) -> list[tuple[str, str]]:
    items = [("/", "Start"), ("/cases", "Fälle")]
    if user.role == "counselor":
        items.append(("/cases/new", "Neuer Fall"))
    if user.role != "ops":
        items.append(("/meetings", "Austauschtreffen"))
    if user.role in ("ops", "authority_lead"):
        items.append(("/ops", "Hängende Fälle"))
    items.append(("/reports", "Berichte"))
    return items


def render(request: Request, template: str, user: User | None, status: int = 200, **context: Any) -> HTMLResponse:
    """A page with the layout's context: user, navigation and the CSRF token bound to the session cookie."""
    settings = request.app.state.bleibe.settings
    cookie = request.cookies.get(COOKIE) or getattr(request.state, "new_cookie", None)
    ctx = {"user": user, "nav": _nav(user) if user else [], "path": request.url.path,
           "csrf": csrf_token(settings, cookie) if cookie else "", **context}
    return templates.TemplateResponse(request, template, ctx, status_code=status, headers=SECURITY_HEADERS)


async def page_user(request: Request, session: AsyncSession) -> User | None:
    """The logged-in user (session cookie, via api.deps.current_user), or None."""
    try:
        return await current_user(request, session)
    except Problem:
        return None


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={target}" if target != "/" else "/login", status_code=303)


def error_page(request: Request, user: User | None, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", user, status=status, status_code=status, message=message,
                  title=_ERROR_TITLES.get(status, "Fehler"))


_ERROR_TITLES = {403: "Keine Berechtigung", 404: "Nicht gefunden", 409: "Nicht möglich", 503: "Nicht erreichbar"}


async def checked_form(request: Request) -> FormData | None:
    """The posted form if its CSRF token matches the session cookie; None otherwise."""
    form = await request.form()
    token = form.get("csrf_token")
    if not check_csrf(request.app.state.bleibe.settings, request, token if isinstance(token, str) else None):
        return None
    return form


def _csrf_failed(request: Request, user: User) -> HTMLResponse:
    return error_page(request, user, 403, "Das Formular ist abgelaufen oder stammt nicht aus dieser Sitzung. "
                                          "Bitte die Seite neu laden und erneut senden.")


def _next_deadline(case: dict[str, Any]) -> dict[str, Any] | None:
    open_ = [d for d in case["deadlines"] if d["state"] in ("pending", "reminded")]
    return min(open_, key=lambda d: d["due"]) if open_ else None


def _case_dict(row: Case, user: User) -> dict[str, Any]:
    case = casework.view(row, user).model_dump()
    case["next_deadline"] = _next_deadline(case)
    return case


# ---- static files, login, logout ----------------------------------------------------------------------


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """The UI's CSS (served by the app itself: the machines have no internet, there is no CDN)."""
    if name not in STATIC:
        return Response("Nicht gefunden", status_code=404, media_type="text/plain; charset=utf-8")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers={"Cache-Control": "max-age=3600"})


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, session: SessionDep, next: str = "/") -> Response:
    if await page_user(request, session) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_form(request, next=_safe_next(next), bye=request.query_params.get("bye") == "1")


def _login_form(request: Request, *, status: int = 200, next: str = "/", username: str = "",
                error: str | None = None, bye: bool = False) -> HTMLResponse:
    """The login form with its own CSRF token, bound to a short-lived pre-login cookie (no session exists yet)."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status=status, next=next, username=username, error=error, bye=bye,
                      csrf=csrf_token(request.app.state.bleibe.settings, nonce))
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/login")
    return response


def _login_csrf_ok(request: Request, token: object) -> bool:
    nonce = request.cookies.get(LOGIN_COOKIE)
    expected = csrf_token(request.app.state.bleibe.settings, nonce) if nonce else ""
    return bool(nonce and isinstance(token, str) and hmac.compare_digest(token, expected))


def _safe_next(target: str | None) -> str:
    # Only local paths: a crafted link must not send the user elsewhere after logging in.
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, session: SessionDep, st: StateDep) -> Response:
    """Check the password (rate-limited by api.auth_service when present) and set the session cookie."""
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or "/"))
    if not _login_csrf_ok(request, form.get("csrf_token")):
        return _login_form(request, status=403, next=target, username=username,
                           error="Das Anmeldeformular ist abgelaufen. Bitte erneut anmelden.")
    user: User | None = None
    try:
        user = await _authenticate(session, st.settings, username, password, request)
    except Problem as exc:
        return _login_form(request, status=exc.status, next=target, username=username, error=exc.detail)
    if user is None:
        return _login_form(request, status=401, next=target, username=username,
                           error="Benutzername oder Passwort ist falsch.")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, issue(st.settings, user), max_age=MAX_AGE_S, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    log.info("ui login", user_id=user.id)
    return response


async def _authenticate(session: AsyncSession, settings: Any, username: str, password: str,
                        request: Request) -> User | None:
    if not username or not password:
        return None
    client_ip = request.client.host if request.client else ""
    return await auth_service.login(session, settings, username, password, client_ip)


@router.get("/logout", response_class=HTMLResponse)
async def logout_page(request: Request, session: SessionDep) -> Response:
    user = await page_user(request, session)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "logout.html", user)


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    user = await page_user(request, session)
    if user is not None:
        if await checked_form(request) is None:
            return _csrf_failed(request, user)
        await end_session(request, session, user)
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# ---- start page ---------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def start(request: Request, session: SessionDep, st: StateDep) -> Response:
    """The start page of the user's role."""
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    if user.role == "ops":
        return await _ops_board(request, session, st, user, start=True)
    rows, _ = await casework.list_cases(session, user, limit=200)
    cases = [_case_dict(r, user) for r in rows]
    if user.role == "counselor":
        mine = [c for c in cases if c["unit"] == user.unit or user.unit is None]
        by_stage = [(s.value, [c for c in mine if c["stage"] == s.value]) for s in OPEN_STAGES]
        return render(request, "start_counselor.html", user, by_stage=by_stage,
                      closed=sum(1 for c in mine if c["stage"] == "closed"))
    if user.role == "authority_liaison":
        inbox = [c for c in cases if c["stage"] == "authority_review" and not c["authority_file_number"]]
        working = [c for c in cases if c["stage"] in ("authority_review", "decision", "joint_meeting")
                   and c not in inbox]
        due = sorted(
            ((c, d) for c in cases for d in c["deadlines"]
             if d["kind"] == "document_due" and d["state"] in ("pending", "reminded")),
            key=lambda cd: cd[1]["due"],
        )
        return render(request, "start_liaison.html", user, inbox=inbox, working=working, due=due)
    overdue = [c for c in cases if c["status"] == "overdue"]
    meeting = [c for c in cases if c["stage"] == "joint_meeting"]
    board = await _stuck(session, st, limit=LEAD_STUCK)
    return render(request, "start_lead.html", user, overdue=overdue, meeting=meeting, **board)


# ---- cases --------------------------------------------------------------------------------------------


@router.get("/cases", response_class=HTMLResponse)
async def cases_page(request: Request, session: SessionDep, stage: str = "", pathway: str = "", status: str = "",
                     q: str = "", cursor: str = "") -> Response:
    """All cases this user may see, with filters (stage, pathway, status, search)."""
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    filters = {"stage": stage[:32], "pathway": pathway[:8], "status": status[:16], "q": q[:100]}
    try:
        rows, nxt = await casework.list_cases(session, user, limit=50, cursor=cursor[:500] or None,
                                              **{k: v or None for k, v in filters.items()})
    except Problem as exc:
        return error_page(request, user, exc.status, exc.detail)
    cases = [_case_dict(r, user) for r in rows]
    names: dict[str, str] = {}
    if user.institution == Institution.COUNSELING and rows:
        people = await session.execute(select(Person.id, Person.given_name, Person.family_name)
                                       .where(Person.id.in_([r.person_id for r in rows])))
        by_person = {pid: " ".join(x for x in (g, f) if x) for pid, g, f in people.all()}
        names = {r.id: by_person.get(r.person_id, "") for r in rows}
    return render(request, "cases.html", user, cases=cases, names=names, filters=filters, next_cursor=nxt)


@router.get("/cases/new", response_class=HTMLResponse)
async def new_case_page(request: Request, session: SessionDep) -> Response:
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    if user.role != "counselor":
        return error_page(request, user, 403, "Nur die Beratungsstelle legt Fälle an.")
    return _new_case_form(request, user, values={"consent_to_share.date": casework.today().isoformat()})


def _new_case_form(request: Request, user: User, *, status: int = 200, values: dict[str, str] | None = None,
                   errors: dict[str, str] | None = None, results: list[Any] | None = None, checked: str = "",
                   message: str | None = None) -> HTMLResponse:
    return render(request, "case_new.html", user, status=status, groups=forms.CASE_FORM, values=values or {},
                  errors=errors or {}, results=results, checked=checked, message=message, tri=forms.TRI,
                  idempotency_key=str(uuid.uuid4()))


@router.post("/cases/new", response_class=HTMLResponse)
async def new_case(request: Request, session: SessionDep, st: StateDep) -> Response:
    """"Prüfen" shows the eligibility per pathway; "Speichern" creates the case once checked unchanged."""
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    if user.role != "counselor":
        return error_page(request, user, 403, "Nur die Beratungsstelle legt Fälle an.")
    form = await checked_form(request)
    if form is None:
        return _csrf_failed(request, user)
    values = forms.form_values(form)
    try:
        body = CaseCreate.model_validate(forms.case_body(form))
        profile = casework.validate_person(body.person, casework.today())
    except ValidationError as exc:
        return _new_case_form(request, user, status=422, values=values, errors=forms.validation_errors(exc),
                              message="Bitte die markierten Angaben korrigieren.")
    except Problem as exc:
        return _new_case_form(request, user, status=422, values=values, errors=forms.problem_errors(exc),
                              message="Bitte die markierten Angaben korrigieren.")
    results = eligibility.evaluate(profile, casework.today())
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()[:32]
    if form.get("op") != "save":
        return _new_case_form(request, user, values=values, results=results, checked=digest)
    if form.get("checked") != digest:
        return _new_case_form(request, user, values=values, results=results, checked=digest,
                              message="Die Angaben haben sich seit der Prüfung geändert. Bitte das Ergebnis "
                                      "ansehen und erneut speichern.")
    key = str(form.get("idempotency_key") or "")[:200] or None
    try:
        _, created = await casework.create_case(st, session, user, body, key)
    except Problem as exc:
        errors = forms.problem_errors(exc)
        if exc.status == 409 and "reference" in exc.extra:
            errors["person.reference"] = "Für dieses Aktenzeichen besteht bereits ein Fall."
        return _new_case_form(request, user, status=exc.status, values=values, errors=errors, results=results,
                              checked=digest, message=exc.detail)
    return RedirectResponse(f"/cases/{created['id']}?done=create_case", status_code=303)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, session: SessionDep) -> Response:
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    return await _case_view(request, session, user, case_id, done=request.query_params.get("done"))


async def _case_view(request: Request, session: AsyncSession, user: User, case_id: str, *, status: int = 200,
                     done: str | None = None, failed: str | None = None, errors: dict[str, str] | None = None,
                     message: str | None = None, values: dict[str, str] | None = None) -> Response:
    try:
        row = await casework.load_case(session, user, case_id, audit_read=True)
    except Problem as exc:
        return error_page(request, user, exc.status, exc.detail)
    case = _case_dict(row, user)
    person = await session.get(Person, row.person_id) if user.institution != Institution.OPERATIONS else None
    results = None
    if person is not None:
        results = eligibility.evaluate(eligibility.Profile.from_person(person.profile or {}), casework.today())
    notes = []
    if user.institution != Institution.OPERATIONS:
        found = (await session.scalars(select(Note).where(Note.case_id == row.id, Note.kind.in_(("note", "minutes")))
                                       .order_by(Note.created_at))).all()
        authors = dict((await session.execute(select(User.id, User.name).where(
            User.id.in_({n.author_id for n in found if n.author_id})))).all())
        notes = [{"text": n.text, "visibility": n.visibility, "kind": n.kind, "at": n.created_at,
                  "author": authors.get(n.author_id, "–"), "institution": n.institution}
                 for n in found if casework.note_readable(user, n)]
    stage_index = labels.STEP_STAGES.index(case["stage"]) if case["stage"] in labels.STEP_STAGES else 0
    doc_types = {**labels.DOCUMENTS}
    return render(
        request, "case.html", user, status=status, case=case, stage_index=stage_index,
        person_name=" ".join(x for x in (person.given_name, person.family_name) if x) if person is not None
        and user.institution == Institution.COUNSELING else None,
        results=results, timeline=await casework.timeline(session, user, row), notes=notes, done=done,
        failed=failed, errors=errors or {}, message=message, values=values or {}, doc_types=doc_types,
        keys={a: str(uuid.uuid4()) for a in case["allowed_actions"]},
    )


@router.post("/cases/{case_id}/actions/{action}", response_class=HTMLResponse)
async def case_action(request: Request, case_id: str, action: str, session: SessionDep, st: StateDep) -> Response:
    """Run one allowed action through casework.act; errors come back next to the form's fields."""
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    form = await checked_form(request)
    if form is None:
        return _csrf_failed(request, user)
    key = str(form.get("idempotency_key") or "")[:200] or None
    try:
        await casework.act(st, session, user, case_id, action, forms.action_body(form), key,
                           getattr(request.state, "request_id", None))
    except Problem as exc:
        if exc.status == 404 and "known_actions" not in exc.extra:
            return error_page(request, user, 404, exc.detail)
        errors = forms.problem_errors(exc, top_level_only=True) if exc.status == 422 else {}
        message = _action_message(exc)
        return await _case_view(request, session, user, case_id, status=exc.status, failed=action, errors=errors,
                                message=message, values=forms.form_values(form))
    return RedirectResponse(f"/cases/{case_id}?done={action}#aktionen", status_code=303)


def _action_message(exc: Problem) -> str:
    if exc.status == 409 and exc.extra.get("current_stage"):
        allowed = ", ".join(labels.label(labels.ACTIONS, a) for a in exc.extra.get("allowed_actions") or []) or "keine"
        stage = labels.label(labels.STAGES, exc.extra["current_stage"])
        return f"Im Stand „{stage}“ nicht möglich. Möglich sind: {allowed}."
    if exc.status == 422:
        return "Bitte die markierten Angaben korrigieren." if exc.extra.get("errors") else exc.detail
    return exc.detail


# ---- meetings -----------------------------------------------------------------------------------------


@router.get("/meetings", response_class=HTMLResponse)
async def meetings_page(request: Request, session: SessionDep) -> Response:
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    if user.role == "ops":
        return error_page(request, user, 403, "Der Betrieb sieht keine Austauschtreffen.")
    return await _meetings_list(request, session, user)


async def _meetings_list(request: Request, session: AsyncSession, user: User, *, status: int = 200,
                         errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Response:
    """The meetings page, with the planning form's errors and values after a refused submit."""
    from api.routes import meetings

    return render(request, "meetings.html", user, status=status, errors=errors or {}, values=values or {},
                  meetings=await meetings.list_meetings(session=session, user=user))


@router.post("/meetings", response_class=HTMLResponse)
async def plan_meeting(request: Request, session: SessionDep, st: StateDep) -> Response:
    from api.routes import meetings

    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    form = await checked_form(request)
    if form is None:
        return _csrf_failed(request, user)
    values = forms.form_values(form)
    try:
        body = meetings.MeetingCreate.model_validate(forms.action_body(form))
        created = await meetings.create_meeting(body=body, request=request, session=session, user=user, st=st,
                                                client=await st.temporal.get())
    except ValidationError as exc:
        errors = forms.validation_errors(exc, top_level_only=True)
    except Problem as exc:
        if exc.status != 422:
            return error_page(request, user, exc.status, exc.detail)
        errors = forms.problem_errors(exc, top_level_only=True)
    else:
        return RedirectResponse(f"/meetings/{created['id']}", status_code=303)
    return await _meetings_list(request, session, user, status=422, errors=errors, values=values)


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse)
async def meeting_page(request: Request, meeting_id: str, session: SessionDep) -> Response:
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    return await _meeting_view(request, session, user, meeting_id, done=request.query_params.get("done") == "1")


async def _meeting_view(request: Request, session: AsyncSession, user: User, meeting_id: str, *, status: int = 200,
                        errors: dict[str, str] | None = None, message: str | None = None,
                        values: dict[str, str] | None = None, done: bool = False) -> Response:
    from api.routes import meetings

    if user.role == "ops":
        return error_page(request, user, 403, "Der Betrieb sieht keine Austauschtreffen.")
    try:
        meeting = await meetings.get_meeting(meeting_id=meeting_id, session=session, user=user)
    except Problem as exc:
        return error_page(request, user, exc.status, exc.detail)
    return render(request, "meeting.html", user, status=status, meeting=meeting, can_minute=user.role in MINUTES_ROLES,
                  errors=errors or {}, message=message, values=values or {}, done=done,
                  idempotency_key=str(uuid.uuid4()))


@router.post("/meetings/{meeting_id}/minutes", response_class=HTMLResponse)
async def meeting_minutes(request: Request, meeting_id: str, session: SessionDep, st: StateDep) -> Response:
    """One outcome per agenda item; items left on "kein Ergebnis" stay on the agenda."""
    from api.routes import meetings

    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    form = await checked_form(request)
    if form is None:
        return _csrf_failed(request, user)
    values = forms.form_values(form)
    items = []
    for n in range(500):
        case_id = form.get(f"items.{n}.case_id")
        if case_id is None:
            break
        outcome = str(form.get(f"items.{n}.outcome") or "")
        if not outcome:
            continue
        items.append((n, {"case_id": str(case_id), "outcome": outcome,
                          "note": str(form.get(f"items.{n}.note") or "").strip() or None,
                          "documents": [str(d) for d in form.getlist(f"items.{n}.documents")],
                          "due": str(form.get(f"items.{n}.due") or "") or None}))
    if not items:
        return await _meeting_view(request, session, user, meeting_id, status=422, values=values,
                                   message="Bitte für mindestens einen Fall ein Ergebnis wählen.")
    index = [n for n, _ in items]

    def field_of(path: str) -> str:
        # items.<i>.<field> in the body → items.<row>.<field> of the form (rows without outcome are skipped).
        parts = path.split(".")
        if len(parts) >= 3 and parts[0] == "items" and parts[1].isdigit() and int(parts[1]) < len(index):
            return f"items.{index[int(parts[1])]}.{parts[2]}"
        return path

    try:
        body = meetings.Minutes.model_validate({"items": [it for _, it in items]})
        client = await st.temporal.get()
        await meetings.post_minutes(meeting_id=meeting_id, body=body, request=request, session=session, user=user,
                                    st=st, client=client)
    except ValidationError as exc:
        errors = {field_of(k): v for k, v in forms.validation_errors(exc).items()}
    except Problem as exc:
        if exc.status != 422:
            return await _meeting_view(request, session, user, meeting_id, status=exc.status, values=values,
                                       message=exc.detail)
        errors = {field_of(k): v for k, v in forms.problem_errors(exc).items()}
    else:
        return RedirectResponse(f"/meetings/{meeting_id}?done=1", status_code=303)
    return await _meeting_view(request, session, user, meeting_id, status=422, errors=errors, values=values,
                               message="Bitte die markierten Angaben korrigieren.")


# ---- ops and reports ----------------------------------------------------------------------------------


async def _stuck(session: AsyncSession, st: Any, *, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """One page of the ops board for a template: findings, total, the next cursor and a notice (or an error)."""
    board: dict[str, Any] = {"stuck": [], "total": 0, "next_cursor": None, "notice": None, "error": None}
    try:
        client = await st.temporal.get()
    except Problem:
        client = None
        board["notice"] = ("Temporal ist gerade nicht erreichbar: gezeigt werden nur Befunde aus der Datenbank "
                           "(Standzeiten und Fristen), keine fehlschlagenden oder fehlenden Workflows.")
    try:
        page = await stuck_page(session, client, st.settings, limit=limit, cursor=cursor)
    except Problem as exc:  # only a damaged or outdated cursor in the link
        board["error"] = f"Der Verweis auf diese Seite ist ungültig ({exc.detail}) – bitte von vorn beginnen."
        return board
    board.update(stuck=[s.model_dump() for s in page.items], total=page.total, next_cursor=page.next_cursor)
    return board


async def _ops_board(request: Request, session: AsyncSession, st: Any, user: User, *, start: bool,
                     cursor: str | None = None) -> Response:
    board = await _stuck(session, st, limit=OPS_PAGE, cursor=cursor)
    return render(request, "ops.html", user, start=start, cursor=cursor, **board)


@router.get("/ops", response_class=HTMLResponse)
async def ops_page(request: Request, session: SessionDep, st: StateDep, cursor: str | None = None) -> Response:
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    if user.role not in ("ops", "authority_lead"):
        return error_page(request, user, 403, "Die Übersicht hängender Fälle ist dem Betrieb und der Leitung "
                                              "der Ausländerbehörde vorbehalten.")
    return await _ops_board(request, session, st, user, start=False, cursor=cursor)


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(request: Request, session: SessionDep, date_from: str = "", date_to: str = "") -> Response:
    """Grant rate per month and median days per stage, as SVG charts with the numbers as tables."""
    user = await page_user(request, session)
    if user is None:
        return to_login(request)
    errors: dict[str, str] = {}
    today = casework.today()
    start, end = today.replace(day=1) - timedelta(days=365), today
    for name, raw in (("date_from", date_from), ("date_to", date_to)):
        if raw:
            try:
                parsed = date.fromisoformat(raw)
            except ValueError:
                errors[name] = "ist kein gültiges Datum"
                continue
            start, end = (parsed, end) if name == "date_from" else (start, parsed)
    if start > end:
        errors["date_to"] = "liegt vor dem Beginn des Zeitraums"
    summary, error = None, None
    if not errors:
        try:
            summary = await reports_service.summary(session, start, end)
        except Problem as exc:
            error = exc.detail
    months, stages = _report_series(summary)
    grant_chart = charts.columns(
        "Anteil erteilter Entscheidungen je Monat in Prozent",
        [(m["label"], m["rate"], "–" if m["rate"] is None else f"{m['rate']:.0f} %") for m in months], max_value=100)
    longest = max((s["days"] for s in stages if s["days"] is not None), default=0)
    stage_chart = charts.rows(
        "Median der Tage je Stand",
        [(s["label"], s["days"], "–" if s["days"] is None else f"{s['days']:g} Tage") for s in stages],
        max_value=max(longest, 1))
    return render(request, "reports.html", user, status=422 if errors else 200,
                  summary=summary.model_dump() if summary else None, error=error,
                  errors=errors, date_from=start.isoformat(), date_to=end.isoformat(), months=months, stages=stages,
                  grant_chart=grant_chart, stage_chart=stage_chart)


def _report_series(summary: reports_service.ReportSummary | None) -> tuple[list[dict[str, Any]],
                                                                           list[dict[str, Any]]]:
    """Months (label, decided, granted, refused, rate in %) and stages (label, median days) for the charts."""
    months = []
    for m in summary.by_month if summary else []:
        months.append({"month": m.month, "label": f"{m.month[5:7]}/{m.month[2:4]}", "decided": m.decided,
                       "granted": m.granted, "refused": m.refused,
                       "rate": None if m.grant_rate is None else 100 * m.grant_rate})  # a share of 1 in the API
    medians = summary.median_days_in_stage if summary else {}
    stages = [{"stage": s, "label": labels.STAGES[s], "days": medians.get(s)} for s in labels.STEP_STAGES
              if s != "closed"]
    return months, stages
