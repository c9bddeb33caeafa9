"""structlog set-up, done once per process: JSON when not a terminal, pretty in a terminal; redacts."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

# Keys whose values are personal data or secrets: never written, whatever logs them (DOMAIN.md §3).
REDACTED_KEYS = frozenset(
    {
        "given_name", "family_name", "name", "birth_date", "nationality", "address", "phone", "email",
        "text", "note", "notes", "reason", "person", "password", "token", "authorization", "cookie",
        "body", "details", "reference", "file_number",
    }
)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._\-~+/=]+", re.IGNORECASE)
_configured = False


def _redact(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if key.lower() in REDACTED_KEYS and key != "event":
            event[key] = "[redacted]"
        elif isinstance(event[key], str):
            event[key] = _BEARER.sub(r"\1[redacted]", event[key])
    return event


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    """Configure structlog and route stdlib logging (uvicorn, temporalio) through the same renderer."""
    global _configured
    if _configured:
        return
    _configured = True
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info if use_json else (lambda _l, _n, e: e),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Database drivers echo SQL parameters (names, note texts) at DEBUG: never below WARNING, whatever the level.
    for chatty in ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "psycopg"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    # Access logs carry URLs; ours are ids only, but keep uvicorn's own access log off: we log requests.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structlog logger; bind `case_id=` on it to tag lines with a case."""
    return structlog.get_logger(name)
