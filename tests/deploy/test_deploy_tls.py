"""Temporal Cloud / self-hosted mTLS: the client connection is built from the configured files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.client import Client
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from core.codec import new_key_spec
from core.settings import Settings
from core.temporal import connect, tls_config


def _self_signed(tmp: Path, name: str) -> tuple[Path, Path, bytes, bytes]:
    """A throwaway certificate and key (PEM files) for `name`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    (tmp / f"{name}.crt").write_bytes(cert_pem)
    (tmp / f"{name}.key").write_bytes(key_pem)
    return tmp / f"{name}.crt", tmp / f"{name}.key", cert_pem, key_pem


def _settings(tmp: Path, **env: Any) -> Settings:
    return Settings(BLEIBE_DATA_DIR=str(tmp), BLEIBE_CODEC_KEYS=new_key_spec("t"), **env)  # type: ignore[arg-type]


def test_mtls_from_files(tmp_path: Path) -> None:
    cert, key, cert_pem, key_pem = _self_signed(tmp_path, "bleibe-worker")
    ca, _, ca_pem, _ = _self_signed(tmp_path, "temporal-ca")
    tls = tls_config(_settings(tmp_path, TEMPORAL_TLS_CERT=str(cert), TEMPORAL_TLS_KEY=str(key),
                               TEMPORAL_TLS_CA=str(ca), TEMPORAL_TLS_SERVER_NAME="temporal.intern"))
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == cert_pem and tls.client_private_key == key_pem
    assert tls.server_root_ca_cert == ca_pem
    assert tls.domain == "temporal.intern"
    x509.load_pem_x509_certificate(tls.client_cert)  # the bytes are the certificate, not a path


def test_cloud_mtls_uses_system_roots(tmp_path: Path) -> None:
    cert, key, cert_pem, _ = _self_signed(tmp_path, "bleibe-cloud")
    tls = tls_config(_settings(tmp_path, TEMPORAL_TLS_CERT=str(cert), TEMPORAL_TLS_KEY=str(key)))
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == cert_pem and tls.server_root_ca_cert is None and tls.domain is None


def test_api_key_alone_means_plain_tls_and_nothing_means_none(tmp_path: Path) -> None:
    assert tls_config(_settings(tmp_path, TEMPORAL_API_KEY="secret")) is True
    assert tls_config(_settings(tmp_path)) is False


def test_half_a_key_pair_is_refused(tmp_path: Path) -> None:
    cert, _key, _, _ = _self_signed(tmp_path, "only-cert")
    with pytest.raises(ValueError, match="TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY"):
        tls_config(_settings(tmp_path, TEMPORAL_TLS_CERT=str(cert)))


async def test_connect_passes_tls_api_key_and_namespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key, cert_pem, _ = _self_signed(tmp_path, "bleibe-api")
    seen: dict[str, Any] = {}

    async def fake_connect(target: str, **kw: Any) -> str:
        seen.update(kw, target=target)
        return "client"

    monkeypatch.setattr(Client, "connect", fake_connect)
    s = _settings(tmp_path, TEMPORAL_ADDRESS="bleibe.a1b2c.tmprl.cloud:7233", TEMPORAL_NAMESPACE="bleibe.a1b2c",
                  TEMPORAL_TLS_CERT=str(cert), TEMPORAL_TLS_KEY=str(key), TEMPORAL_API_KEY="k-123")
    assert await connect(s) == "client"
    assert seen["target"] == "bleibe.a1b2c.tmprl.cloud:7233"
    assert seen["namespace"] == "bleibe.a1b2c"
    assert seen["api_key"] == "k-123"
    assert isinstance(seen["tls"], TLSConfig) and seen["tls"].client_cert == cert_pem
    assert seen["data_converter"].payload_codec is not None  # payloads stay encrypted on the cluster


async def test_worker_tuning_comes_from_settings(ts_env: WorkflowEnvironment, tmp_path: Path) -> None:
    from worker import build_worker

    s = _settings(tmp_path, BLEIBE_WORKER_MAX_ACTIVITIES="7", BLEIBE_WORKER_MAX_WORKFLOW_TASKS="9",
                  BLEIBE_WORKER_MAX_CACHED_WORKFLOWS="11", BLEIBE_WORKER_STICKY_TIMEOUT_SECONDS="3",
                  BLEIBE_WORKER_SHUTDOWN_GRACE_SECONDS="25")
    config = build_worker(ts_env.client, None, s, task_queue="tuning")._config
    assert (config["max_concurrent_activities"], config["max_concurrent_workflow_tasks"],
            config["max_cached_workflows"]) == (7, 9, 11)
    assert config["sticky_queue_schedule_to_start_timeout"] == timedelta(seconds=3)
    assert config["graceful_shutdown_timeout"] == timedelta(seconds=25)
