"""RFC 9457 problem details: the one shape of every error the API returns."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Ungültige Anfrage",
    401: "Nicht angemeldet",
    403: "Keine Berechtigung",
    404: "Nicht gefunden",
    405: "Methode nicht erlaubt",
    409: "Aktion im aktuellen Stand nicht möglich",
    413: "Anfrage zu groß",
    415: "Nicht unterstütztes Format",
    422: "Ungültige Eingabe",
    429: "Zu viele Anfragen",
    503: "Dienst vorübergehend nicht erreichbar",
}


class Problem(Exception):
    """Raise to answer with a problem+json response; `extra` fields are added to the body."""

    def __init__(self, status: int, detail: str, *, type_: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type_ or f"https://bleibe.example/problems/{status}"
        self.headers = headers or {}
        self.extra = extra


def unavailable(what: str) -> Problem:
    return Problem(503, f"{what} ist nicht erreichbar; nichts wurde geändert. Bitte später erneut versuchen.",
                   type_="https://bleibe.example/problems/unavailable", headers={"Retry-After": "5"})


def invalid(errors: list[dict[str, Any]], detail: str = "Die Eingabe ist ungültig.") -> Problem:
    return Problem(422, detail, type_="https://bleibe.example/problems/validation", errors=errors)


def problem_response(status: int, detail: str, *, type_: str | None = None, headers: dict[str, str] | None = None,
                     **extra: Any) -> JSONResponse:
    body = {"type": type_ or f"https://bleibe.example/problems/{status}", "title": TITLES.get(status, "Fehler"),
            "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def handle_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.detail, type_=exc.type, headers=exc.headers, **exc.extra)


async def handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", ""),
         "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return problem_response(422, "Die Eingabe ist ungültig.", type_="https://bleibe.example/problems/validation",
                            errors=errors)


async def handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Fehler")
    return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))
