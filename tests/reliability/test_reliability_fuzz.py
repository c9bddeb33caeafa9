"""API fuzzing with schemathesis against the app's own OpenAPI schema: no input gives a 500.

Requests are generated from the schema (valid and invalid ones), sent in-process (ASGI, httpx) to the
session's app with a real worker behind it, as a counselor, a liaison or ops; half of the case paths
name a real case, so actions with generated bodies reach the workflow too. Every operation in the
schema is fuzzed, none is left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from api.schemas import ACTION_BODIES
from tests.conftest import Api, make_settings, new_case

MAX_EXAMPLES = 30
ROLES = ("counselor", "authority_liaison", "ops")


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the schema, read from an app built without starting it."""
    from api.app import create_app

    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", Path(".")))
    return sorted((m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops)


OPERATIONS = _operations()
_schemas: dict[int, Any] = {}


def _strategy(app: Any, method: str, path: str) -> Any:
    key = id(app)
    if key not in _schemas:
        _schemas[key] = schemathesis.openapi.from_dict(app.openapi())
    op = _schemas[key][path][method]
    return st.one_of(op.as_strategy(generation_mode=GenerationMode.POSITIVE),
                     op.as_strategy(generation_mode=GenerationMode.NEGATIVE))


@pytest.fixture(scope="session")
async def fuzz_users(make_api: Any) -> dict[str, Api]:
    return {role: await make_api(role) for role in ROLES}


@pytest.fixture(scope="session")
async def fuzz_case(fuzz_users: dict[str, Api]) -> str:
    counselor = fuzz_users["counselor"]
    case = await new_case(counselor)
    await counselor.act(case["id"], "complete_intake", {"pathway": "25b"})
    return str(case["id"])


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_no_generated_request_gets_a_500(method: str, path: str, data: st.DataObject, app: Any,
                                               fuzz_users: dict[str, Api], fuzz_case: str) -> None:
    case = data.draw(_strategy(app, method, path), label="request")
    role = data.draw(st.sampled_from(ROLES), label="role")
    if "case_id" in (case.path_parameters or {}) and data.draw(st.booleans(), label="real case"):
        case.path_parameters["case_id"] = fuzz_case
    if "action" in (case.path_parameters or {}) and data.draw(st.booleans(), label="known action"):
        case.path_parameters["action"] = data.draw(st.sampled_from(sorted(ACTION_BODIES)), label="action")
    kw = case.as_transport_kwargs(base_url="http://test")
    headers = {k: v for k, v in (kw.get("headers") or {}).items() if k.lower() != "authorization"}
    headers["Authorization"] = fuzz_users[role].http.headers["Authorization"]
    body: dict[str, Any] = {}
    if "json" in kw:
        body["json"] = kw["json"]
    elif kw.get("data") is not None:
        raw = kw["data"]
        body["content" if isinstance(raw, (bytes, str)) else "data"] = raw
    if kw.get("cookies"):
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in kw["cookies"].items())
    r = await fuzz_users[role].http.request(kw["method"], kw["url"], params=kw.get("params"), headers=headers,
                                           **body)
    assert r.status_code < 500 or r.status_code == 503, (
        f"{method} {path} as {role}: {r.status_code} {r.text[:500]}\nrequest: {kw}"
    )
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), (r.status_code, r.text[:300])


def test_every_operation_is_fuzzed() -> None:
    """The parametrisation reads the schema, so a new route is fuzzed without anyone adding it here."""
    assert ("POST", "/api/v1/cases/{case_id}/actions/{action}") in OPERATIONS
    assert len(OPERATIONS) >= 10
