"""Opaque page cursors: the sort key of the last item shown, as url-safe base64 of a JSON list.

Both paged lists (cases, stuck findings) use these; a cursor that does not decode into the list's key is
a 422 problem naming the `cursor` field.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

from api.problems import invalid

K = TypeVar("K")


def encode_cursor(*key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str, build: Callable[..., K]) -> K:
    """`build(*parts)` of the decoded key; its ValueError or TypeError (wrong parts) means a bad cursor."""
    try:
        parts: Any = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(parts, list):
            raise TypeError(type(parts).__name__)
        return build(*parts)
    except (ValueError, TypeError) as exc:
        raise invalid([{"field": "cursor", "message": "ungültiger Cursor"}]) from exc
