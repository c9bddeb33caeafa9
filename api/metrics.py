"""Prometheus metrics of the API process; /metrics adds the Temporal SDK's runtime metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_LATENCY = Histogram(
    "bleibe_http_request_duration_seconds", "API request latency", ["method", "route", "status"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ACTIONS = Counter("bleibe_case_actions_total", "Case actions by type and result", ["action", "result"],
                  registry=REGISTRY)
