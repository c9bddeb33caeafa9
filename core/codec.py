"""AES-GCM payload codec: every Temporal payload is encrypted, the key id travels in the metadata.

Keys come from `BLEIBE_CODEC_KEYS` ("kid:base64key,…"): the first key encrypts, every listed key can
decrypt, so a key is rotated by putting a new one first and keeping the old one until no open history
needs it. The embedded stack keeps a generated key in the data folder.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"


class CodecKeyError(ValueError):
    """The configured keys cannot be used (bad format, wrong length, unknown key id)."""


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """Parse "kid:base64key,…" into (key id, 32-byte key) pairs, first = active."""
    keys: list[tuple[str, bytes]] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, sep, b64 = part.partition(":")
        if not sep or not kid:
            raise CodecKeyError("BLEIBE_CODEC_KEYS: expected 'keyid:base64key' entries")
        try:
            key = base64.b64decode(b64, validate=True)
        except ValueError as exc:
            raise CodecKeyError(f"BLEIBE_CODEC_KEYS: key {kid!r} is not base64") from exc
        if len(key) != 32:
            raise CodecKeyError(f"BLEIBE_CODEC_KEYS: key {kid!r} must be 32 bytes (AES-256)")
        keys.append((kid, key))
    if not keys:
        raise CodecKeyError("BLEIBE_CODEC_KEYS is empty")
    return keys


def new_key_spec(kid: str | None = None) -> str:
    """A fresh single-key spec, for the embedded stack and tests."""
    kid = kid or f"k{secrets.token_hex(4)}"
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def load_or_create_dev_keys(data_dir: Path) -> str:
    """The embedded stack's key file (created once, readable by the owner only)."""
    path = data_dir / "codec-keys"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key_spec("dev1"))
    return path.read_text().strip()


class EncryptionCodec(PayloadCodec):
    """Encrypts payloads with AES-256-GCM; decrypts with whichever configured key wrote them."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise CodecKeyError("at least one key is needed")
        self._active_id = keys[0][0]
        self._ciphers = {kid: AESGCM(key) for kid, key in keys}

    @classmethod
    def from_spec(cls, spec: str) -> EncryptionCodec:
        return cls(parse_keys(spec))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            nonce = secrets.token_bytes(12)
            data = nonce + self._ciphers[self._active_id].encrypt(nonce, p.SerializeToString(), None)
            out.append(
                Payload(
                    metadata={"encoding": ENCODING, "encryption-key-id": self._active_id.encode()},
                    data=data,
                )
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding", b"") != ENCODING:
                out.append(p)
                continue
            kid = p.metadata.get("encryption-key-id", b"").decode()
            cipher = self._ciphers.get(kid)
            if cipher is None:
                raise CodecKeyError(f"payload encrypted with unknown key id {kid!r}")
            plain = cipher.decrypt(p.data[:12], p.data[12:], None)
            out.append(Payload.FromString(plain))
        return out
