"""Personal data never enters Temporal or the logs; payloads are encrypted; the codec endpoint for ops."""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.testing import WorkflowEnvironment

from core.codec import ENCODING, CodecKeyError, EncryptionCodec, new_key_spec, parse_keys
from core.settings import Settings
from store.models import Case, Person
from tests.conftest import Api, complete_checklist, new_case

PASSWORD = "richtig-geheim-42"


class Capture(logging.Handler):
    """Every log line of the process, rendered exactly as the configured handler renders it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        root = logging.getLogger()
        if root.handlers and root.handlers[0].formatter is not None:
            self.setFormatter(root.handlers[0].formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)  # at the configured level (BLEIBE_LOG_LEVEL), like the service's own handler
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)


def payloads_in(msg: Message, skip: frozenset[str] = frozenset({"search_attributes", "header"})) -> Iterator[Payload]:
    """Every Payload inside a history event, except search attributes (not encrypted by design)."""
    for field, value in msg.ListFields():
        if field.name in skip or field.message_type is None:
            continue
        if field.message_type.full_name == Payload.DESCRIPTOR.full_name:
            yield from ([value] if isinstance(value, Message) else value)
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
            if items and isinstance(items[0], Message):
                for v in items:
                    if isinstance(v, Payload):
                        yield v
                    else:
                        yield from payloads_in(v, skip)
            continue
        for v in [value] if isinstance(value, Message) else value:
            yield from payloads_in(v, skip)


async def test_planted_name_is_in_neither_temporal_nor_logs(counselor: Api, liaison: Api, dev_env: WorkflowEnvironment,
                                                            sessions: Any, log_lines: list[str]) -> None:
    mark = uuid.uuid4().hex[:12]
    given, family = f"Zarifa{mark}", f"Qasemi{mark}"
    note, reason = f"Notiz-{mark}-Gesundheit", f"Grund-{mark}-Vorstrafe"
    case = await new_case(counselor, given_name=given, family_name=family, reference=f"REF-{mark}")
    cid = case["id"]
    await counselor.act(cid, "complete_intake", {"pathway": "25b"})
    await counselor.act(cid, "add_note", {"text": note, "visibility": "internal"})
    case = await complete_checklist(counselor, (await counselor.get(f"/api/v1/cases/{cid}")).json())
    await counselor.act(cid, "submit_to_authority")
    await liaison.act(cid, "acknowledge", {"file_number": f"ABH-{mark}"})
    await liaison.act(cid, "refer_to_meeting", {"reason": reason})
    await counselor.act(cid, "withdraw", {"reason": reason + "-Rueckzug"})
    async with sessions() as s:  # the name is stored, in SQL only
        row = await s.get(Case, cid)
        assert row is not None and (await s.get(Person, row.person_id)).family_name == family  # type: ignore[union-attr]

    # every payload of the case's history is encrypted with the codec
    history = await dev_env.client.get_workflow_handle(cid).fetch_history()
    found = [p for e in history.events for p in payloads_in(e)]
    assert len(found) >= 8
    assert all(p.metadata["encoding"] == ENCODING and p.metadata["encryption-key-id"] for p in found)
    # and nothing personal sits in the Temporal server's database file (nor its write-ahead log)
    db_file = dev_env.db_file  # type: ignore[attr-defined]
    blobs = b"".join(p.read_bytes() for p in (db_file, db_file.with_name(db_file.name + "-wal")) if p.exists())
    assert cid.encode() in blobs  # the file is the right one: workflow ids are there
    for secret in (given, family, note, reason, mark):
        assert secret.encode() not in blobs, secret
        for enc in ("utf-16-le", "utf-16-be"):
            assert secret.encode(enc) not in blobs
    # nor in any log line of this session's test
    assert log_lines, "no log lines were captured"
    assert any(cid in line for line in log_lines)
    for secret in (given, family, note, reason, mark):
        assert not any(secret in line for line in log_lines), secret


async def test_codec_endpoint_decodes_for_ops_only(app: Any, counselor: Api, ops: Api, make_api: Any,
                                                   dev_env: WorkflowEnvironment, settings: Settings) -> None:
    case = await new_case(counselor)
    history = await dev_env.client.get_workflow_handle(case["id"]).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert started.metadata["encoding"] == ENCODING
    body = {"payloads": [MessageToDict(started)]}
    r = await ops.post("/api/v1/codec/decode", json=body)
    assert r.status_code == 200, r.text
    plain = r.json()["payloads"][0]
    assert base64.b64decode(plain["metadata"]["encoding"]) == b"json/plain"
    assert case["id"] in base64.b64decode(plain["data"]).decode()
    # encode, then decode again: the same payload
    r = await ops.post("/api/v1/codec/encode", json={"payloads": [plain]})
    assert r.status_code == 200
    again = r.json()["payloads"][0]
    assert base64.b64decode(again["metadata"]["encoding"]) == ENCODING
    assert (await ops.post("/api/v1/codec/decode", json={"payloads": [again]})).json()["payloads"][0] == plain
    # others may not
    assert (await counselor.post("/api/v1/codec/decode", json=body)).status_code == 403
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as anon:
        assert (await anon.post("/api/v1/codec/decode", json=body)).status_code == 401
    assert (await ops.post("/api/v1/codec/decode", json={"payloads": "x"})).status_code == 422
    tampered = dict(body["payloads"][0], data=base64.b64encode(b"\0" * 40).decode())
    assert (await ops.post("/api/v1/codec/decode", json={"payloads": [tampered]})).status_code == 422


async def test_codec_cors_for_the_temporal_ui_and_cookie_sessions(app: Any, make_api: Any, ops: Api,
                                                                  settings: Settings) -> None:
    ui = f"http://127.0.0.1:{settings.temporal_ui_port}"
    for origin in (ui, f"http://localhost:{settings.temporal_ui_port}"):
        r = await ops.http.options("/api/v1/codec/decode", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace"})
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == origin
        assert r.headers["access-control-allow-credentials"] == "true"
        assert "Authorization" in r.headers["access-control-allow-headers"]
        assert "X-Namespace" in r.headers["access-control-allow-headers"]
    r = await ops.http.options("/api/v1/codec/decode", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    r = await ops.post("/api/v1/codec/decode", json={"payloads": []}, headers={"Origin": ui, "X-Namespace": "default"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ui
    # the Temporal UI may also rely on the ops user's session cookie (no CSRF header: the codec changes nothing)
    web_ops = await make_api("ops", password=PASSWORD)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.7.7.7", 1)),
                                 base_url="http://test") as web:
        assert (await web.post("/api/v1/auth/login",
                               json={"username": web_ops.user.name, "password": PASSWORD})).status_code == 200
        r = await web.post("/api/v1/codec/decode", json={"payloads": []}, headers={"Origin": ui})
        assert r.status_code == 200
        r = await web.post("/api/v1/codec/decode", json={"payloads": []}, headers={"Origin": "http://evil.example"})
        assert r.status_code == 403


async def test_codec_cors_for_a_configured_temporal_ui(app: Any, ops: Api, settings: Settings) -> None:
    """A cluster's Temporal UI on its own host is allowed once named in BLEIBE_TEMPORAL_UI_ORIGINS."""
    state = app.state.bleibe
    plain = state.settings
    preflight = {"Origin": "https://temporal.example.org", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in (await ops.http.options("/api/v1/codec/decode",
                                                                        headers=preflight)).headers
    state.settings = plain.model_copy(update={"temporal_ui_origins_raw": " https://temporal.example.org/ ,"})
    try:
        r = await ops.http.options("/api/v1/codec/decode", headers=preflight)
        assert r.headers["access-control-allow-origin"] == "https://temporal.example.org"
        r = await ops.http.options("/api/v1/codec/decode", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
    finally:
        state.settings = plain


async def test_codec_key_rotation() -> None:
    old_spec, new_spec = new_key_spec("k2025"), new_key_spec("k2026")
    old = EncryptionCodec.from_spec(old_spec)
    plain = [Payload(metadata={"encoding": b"json/plain"}, data=b'{"case_id": "case-1"}')]
    written_before = await old.encode(plain)
    assert written_before[0].metadata["encryption-key-id"] == b"k2025"
    rotated = EncryptionCodec.from_spec(f"{new_spec},{old_spec}")  # new key first: it encrypts
    assert await rotated.decode(written_before) == plain  # old histories stay readable
    written_after = await rotated.encode(plain)
    assert written_after[0].metadata["encryption-key-id"] == b"k2026"
    assert await rotated.decode(written_after) == plain
    with pytest.raises(CodecKeyError):
        await old.decode(written_after)  # the old key alone cannot read what the new key wrote
    retired = EncryptionCodec.from_spec(new_spec)
    with pytest.raises(CodecKeyError):
        await retired.decode(written_before)
    assert [kid for kid, _ in parse_keys(f"{new_spec},{old_spec}")] == ["k2026", "k2025"]
