"""Request body limit for bodies without Content-Length (chunked uploads): 413 past the limit.

Bodies that declare their length are refused up front in api.app's middleware; a chunked body only
shows its size while it streams, so it is read here (at most the limit plus one chunk) and replayed.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ChunkedBodyLimit:
    """ASGI middleware: read a body without Content-Length up to `max_bytes`, answer 413 beyond it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(k == b"content-length" for k, _ in scope.get("headers", [])):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"type": "https://bleibe.example/problems/413", "title": "Anfrage zu groß", "status": 413,
                       "detail": f"Höchstens {limit} Bytes je Anfrage."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
