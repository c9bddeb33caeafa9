"""Request context as plain ASGI middleware: request id, body-size check, latency metric, X-Request-ID.

Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs the app in a
second task and streams the response through a memory channel, which cost a measurable share of every
request in the benchmarks (bench/). Here the app runs in the request's own task, so the bound
structlog context reaches every log line of the request.
"""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import REQUEST_LATENCY
from api.problems import problem_response


class RequestContext:
    """Give each HTTP request an id (from X-Request-ID or new), refuse declared oversize bodies, time it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:80] or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        length = headers.get(b"content-length", b"").decode("latin-1")
        structlog.contextvars.bind_contextvars(request_id=rid)
        try:
            if length.isdigit() and int(length) > self.max_bytes:
                await problem_response(413, f"Höchstens {self.max_bytes} Bytes je Anfrage.")(scope, receive,
                                                                                            send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            template = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_LATENCY.labels(scope["method"], template, str(status)).observe(time.perf_counter() - start)
