"""One way to reach Temporal: the data converter (Pydantic + encryption) and the client connection."""

from __future__ import annotations

import dataclasses
import socket

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RetryConfig, TLSConfig

from core.codec import EncryptionCodec, load_or_create_dev_keys
from core.settings import Settings

# Custom search attributes (names and types); registered by the dev stack and deploy/.
SEARCH_ATTRIBUTES = {
    "BleibeStage": "Keyword",
    "BleibeStageEnteredAt": "Datetime",
    "BleibeNextDeadline": "Datetime",
    "BleibePathway": "Keyword",
    "BleibeStatus": "Keyword",
    "BleibeUnit": "Keyword",
}


def codec_key_spec(settings: Settings) -> str:
    """The configured codec keys, or the embedded stack's generated ones."""
    if settings.codec_keys is not None:
        return settings.codec_keys.get_secret_value()
    return load_or_create_dev_keys(settings.data_dir)


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted with AES-GCM."""
    return dataclasses.replace(
        pydantic_data_converter, payload_codec=EncryptionCodec.from_spec(codec_key_spec(settings))
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_runtime: Runtime | None = None
_metrics_address: str | None = None


def runtime_with_metrics(bind_address: str | None = None) -> tuple[Runtime, str]:
    """A process-wide runtime exporting the SDK's metrics on a local Prometheus endpoint."""
    global _runtime, _metrics_address
    if _runtime is None:
        _metrics_address = bind_address or f"127.0.0.1:{free_port()}"
        _runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=_metrics_address)))
    assert _metrics_address is not None
    return _runtime, _metrics_address


def sdk_metrics_address() -> str | None:
    return _metrics_address


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS for the Temporal connection: mTLS from files, a private CA / server name, or plain TLS for an API key."""
    s = settings
    if bool(s.temporal_tls_cert) != bool(s.temporal_tls_key):
        raise ValueError("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together")
    if s.temporal_tls_cert or s.temporal_tls_ca or s.temporal_tls_server_name:
        return TLSConfig(
            server_root_ca_cert=s.temporal_tls_ca.read_bytes() if s.temporal_tls_ca else None,
            domain=s.temporal_tls_server_name,
            client_cert=s.temporal_tls_cert.read_bytes() if s.temporal_tls_cert else None,
            client_private_key=s.temporal_tls_key.read_bytes() if s.temporal_tls_key else None,
        )
    # Temporal Cloud's API-key endpoints only speak TLS; the system roots verify them.
    return s.temporal_api_key is not None


async def connect(settings: Settings, *, address: str | None = None, runtime: Runtime | None = None,
                  retry_config: RetryConfig | None = None) -> Client:
    """Connect to the configured Temporal server (TLS / API key for Temporal Cloud when set)."""
    tls = tls_config(settings)
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    target = address or settings.temporal_address or f"127.0.0.1:{settings.temporal_port or 7233}"
    return await Client.connect(
        target,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls,
        api_key=api_key,
        runtime=runtime,
        retry_config=retry_config,
    )
