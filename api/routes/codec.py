"""The remote payload codec for the Temporal UI: ops users see decrypted workflow payloads there.

Protocol (Temporal "remote data encoder"): POST {endpoint}/encode and {endpoint}/decode with
`{"payloads": [{"metadata": {key: base64}, "data": base64}]}` (the protobuf JSON form of Payload),
answered in the same shape. The Temporal UI calls it from the browser, so the UI's origin gets CORS
with credentials; the UI forwards its Authorization header or the session cookie.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from temporalio.api.common.v1 import Payload

from api.deps import StateDep, current_user
from api.problems import Problem
from core.codec import CodecKeyError, EncryptionCodec
from core.settings import Settings
from store.models import User

router = APIRouter(prefix="/api/v1/codec", tags=["codec"])

ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace, X-CSRF-Token"
MAX_PAYLOADS = 1000


def ui_origins(settings: Settings) -> set[str]:
    """The Temporal UI's origins (the dev server's UI on this machine, and any configured), which may call the codec."""
    port = settings.temporal_ui_port
    return {f"http://127.0.0.1:{port}", f"http://localhost:{port}"} | settings.temporal_ui_origins


def cors_headers(request: Request, settings: Settings) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin not in ui_origins(settings):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


@cache
def _codec(spec: str) -> EncryptionCodec:
    return EncryptionCodec.from_spec(spec)


def codec_for(settings: Settings) -> EncryptionCodec:
    from core.temporal import codec_key_spec

    return _codec(codec_key_spec(settings))


async def ops_user(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
    origin = request.headers.get("origin")
    if (getattr(request.state, "via_cookie", False) and origin
            and origin not in ui_origins(request.app.state.bleibe.settings) | {_origin_of(request)}):
        raise Problem(403, "Aufruf von einer fremden Seite.")
    if user.role != "ops":
        raise Problem(403, "Nur der Betrieb (Rolle ops) darf Payloads entschlüsseln.")
    return user


def _origin_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _parse(body: dict[str, Any]) -> list[Payload]:
    raw = body.get("payloads")
    if not isinstance(raw, list) or len(raw) > MAX_PAYLOADS:
        raise Problem(422, f"Erwartet: {{\"payloads\": [...]}} mit höchstens {MAX_PAYLOADS} Einträgen.")
    try:
        return [ParseDict(p, Payload()) for p in raw]
    except (ParseError, TypeError, AttributeError) as exc:
        raise Problem(422, "Ein Payload ist nicht im JSON-Format von Temporal.") from exc


def _dump(payloads: list[Payload]) -> dict[str, Any]:
    return {"payloads": [MessageToDict(p) for p in payloads]}


@router.options("/{op}", include_in_schema=False)
async def preflight(op: str, request: Request, st: StateDep) -> Response:
    """CORS preflight of the Temporal UI (no credentials are sent with it)."""
    return Response(status_code=204, headers=cors_headers(request, st.settings))


@router.post("/encode", summary="Encrypt payloads (Temporal remote codec)")
async def encode(request: Request, st: StateDep, user: Annotated[User, Depends(ops_user)],
                 body: Annotated[dict[str, Any], Body()]) -> Response:
    """Encrypt with the active key (the Temporal UI uses it to send signals and the like)."""
    out = await codec_for(st.settings).encode(_parse(body))
    return _json(request, st.settings, _dump(out))


@router.post("/decode", summary="Decrypt payloads (Temporal remote codec)")
async def decode(request: Request, st: StateDep, user: Annotated[User, Depends(ops_user)],
                 body: Annotated[dict[str, Any], Body()]) -> Response:
    """Decrypt with whichever configured key wrote each payload; unknown keys are 422."""
    try:
        out = await codec_for(st.settings).decode(_parse(body))
    except CodecKeyError as exc:
        raise Problem(422, "Ein Payload ist mit einem unbekannten Schlüssel verschlüsselt.") from exc
    except Exception as exc:  # cryptography's InvalidTag: tampered or truncated data
        raise Problem(422, "Ein Payload lässt sich nicht entschlüsseln (beschädigt oder falscher Schlüssel).") from exc
    return _json(request, st.settings, _dump(out))


def _json(request: Request, settings: Settings, body: dict[str, Any]) -> Response:
    from fastapi.responses import JSONResponse

    return JSONResponse(body, headers=cors_headers(request, settings))
