"""The FastAPI application: wiring only (routers, lifespan, middleware, error handlers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client

from api.deps import AppState, TemporalHolder
from api.problems import Problem, handle_http, handle_problem, handle_validation, problem_response
from core.logging import configure_logging
from core.settings import Settings, get_settings
from store.db import UNAVAILABLE_ERRORS, make_engine, make_sessionmaker

log = structlog.get_logger("bleibe.api")


def create_app(settings: Settings | None = None, *, temporal_client: Client | None = None) -> FastAPI:
    """Build the app; tests pass their own settings and an already connected Temporal client."""
    settings = settings or get_settings()
    configure_logging(settings.log_format, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.bleibe = AppState(settings=settings, engine=engine, sessions=make_sessionmaker(engine),
                                    temporal=TemporalHolder(settings, temporal_client))
        yield
        await engine.dispose()

    app = FastAPI(title="Bleibe", version="0.1.0", lifespan=lifespan,
                  description="Fallübergabe Beratungsstelle – Ausländerbehörde (Bleiberecht)")
    app.add_exception_handler(Problem, handle_problem)
    app.add_exception_handler(RequestValidationError, handle_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        if isinstance(exc, UNAVAILABLE_ERRORS):
            log.warning("database unavailable", error=type(exc).__name__, path=request.url.path)
            return problem_response(503, "Die Datenbank ist nicht erreichbar; nichts wurde geändert.",
                                    headers={"Retry-After": "5"})
        log.exception("unhandled error", path=request.url.path)
        rid = getattr(request.state, "request_id", None)
        return problem_response(500, "Interner Fehler; die Anfrage-ID steht im Header X-Request-ID.",
                                headers={"X-Request-ID": rid} if rid else None)

    from api.limits import ChunkedBodyLimit
    from api.middleware import RequestContext
    from api.routes import auth, cases, codec, eligibility, health, meetings

    app.add_middleware(RequestContext, max_bytes=settings.max_body_bytes)
    app.add_middleware(ChunkedBodyLimit, max_bytes=settings.max_body_bytes)  # outermost: added last

    app.include_router(health.router)
    app.include_router(cases.router)
    app.include_router(eligibility.router)
    app.include_router(meetings.router)
    app.include_router(auth.router)
    app.include_router(codec.router)
    from api.routes import calendar

    app.include_router(calendar.router)
    from api.routes import ops, reports

    app.include_router(ops.router)
    app.include_router(reports.router)

    from api import ui

    app.include_router(ui.router)  # the staff web UI (German HTML pages)
    return app
