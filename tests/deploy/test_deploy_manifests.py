"""deploy/: the compose file and the Kubernetes manifests, checked structurally (no Docker or cluster here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import Settings
from core.temporal import SEARCH_ATTRIBUTES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ALIASES = {f.alias for f in Settings.model_fields.values() if f.alias}
BLEIBE_SERVICES = ("migrate", "api", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


@pytest.fixture(scope="module")
def k8s() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name.startswith("values-"):
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _sa_pairs(script: str) -> dict[str, str]:
    return dict(re.findall(r"(Bleibe\w+)=(Keyword|Datetime|Int|Double|Bool|Text|KeywordList)", script))


# ---- compose ------------------------------------------------------------------------------------------


def test_compose_has_every_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "temporal", "temporal-ui", "search-attributes", *BLEIBE_SERVICES}
    s = compose["services"]
    assert [s[n]["command"] for n in BLEIBE_SERVICES] == [["bleibe", "migrate"], ["bleibe", "api"],
                                                         ["bleibe", "worker"]]
    assert s["worker"]["deploy"]["replicas"] >= 2


def test_compose_temporal_uses_postgres_and_sql_visibility(compose: dict[str, Any]) -> None:
    t = compose["services"]["temporal"]
    assert t["image"].startswith("temporalio/auto-setup:")
    assert t["environment"]["DB"] == "postgres12" and t["environment"]["POSTGRES_SEEDS"] == "postgres"
    assert t["environment"]["ENABLE_ES"] == "false" and t["environment"]["VISIBILITY_DBNAME"]
    ui = compose["services"]["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/api/v1/codec")
    # the API lets the UI's browser origin call the codec (api/routes/codec.py ui_origins)
    ui_port = compose["services"]["temporal-ui"]["ports"][0].rsplit(":", 1)[1]
    assert compose["services"]["api"]["environment"]["BLEIBE_TEMPORAL_UI_PORT"] == ui_port


def test_compose_registers_exactly_our_search_attributes(compose: dict[str, Any]) -> None:
    job = compose["services"]["search-attributes"]
    script = "\n".join(job["command"])
    assert "temporal operator search-attribute create" in script
    assert _sa_pairs(script) == SEARCH_ATTRIBUTES
    assert job["restart"] == "no"


def test_compose_start_order(compose: dict[str, Any]) -> None:
    s = compose["services"]

    def deps(name: str) -> dict[str, str]:
        return {k: v["condition"] for k, v in s[name]["depends_on"].items()}

    assert deps("temporal") == {"postgres": "service_healthy"}
    assert deps("migrate") == {"postgres": "service_healthy"}
    assert deps("search-attributes") == {"temporal": "service_healthy"}
    for name in ("api", "worker"):
        assert deps(name) == {"migrate": "service_completed_successfully",
                              "search-attributes": "service_completed_successfully", "temporal": "service_healthy"}
    # every service waited for as healthy has a health check
    for name in s:
        for dep, cond in deps(name).items() if "depends_on" in s[name] else ():
            if cond == "service_healthy":
                assert "healthcheck" in s[dep], dep


def test_compose_health_checks(compose: dict[str, Any]) -> None:
    s = compose["services"]
    assert "/readyz" in " ".join(s["api"]["healthcheck"]["test"])
    port = s["worker"]["environment"]["BLEIBE_WORKER_METRICS_PORT"]
    assert f"127.0.0.1:{port}/metrics" in " ".join(s["worker"]["healthcheck"]["test"])
    assert s["worker"]["environment"]["BLEIBE_WORKER_METRICS_HOST"] == "0.0.0.0"
    assert "pg_isready" in " ".join(s["postgres"]["healthcheck"]["test"])


def test_compose_bleibe_env_is_known_to_settings(compose: dict[str, Any]) -> None:
    for name in BLEIBE_SERVICES:
        env = compose["services"][name]["environment"]
        assert {"DATABASE_URL", "TEMPORAL_ADDRESS", "BLEIBE_CODEC_KEYS", "BLEIBE_SESSION_SECRET"} <= set(env)
        assert set(env) <= ALIASES, set(env) - ALIASES
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")


def test_compose_secrets_come_from_the_environment_file(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required == {"POSTGRES_PASSWORD", "BLEIBE_CODEC_KEYS", "BLEIBE_SESSION_SECRET"}
    example = {line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines()
               if "=" in line and not line.startswith("#")}
    assert required <= example


def test_dockerfile_ships_every_package() -> None:
    docker = (DEPLOY / "Dockerfile").read_text()
    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        assert f"COPY {pattern.rstrip('*')} " in docker, pattern
    for module in project["tool"]["setuptools"]["py-modules"]:
        assert f"{module}.py" in docker
    env = dict(re.findall(r"(\w+)=(\S+)", docker.split("ENV", 1)[1].split("\n\n", 1)[0]))
    assert set(env) - {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR"} <= ALIASES
    assert env["BLEIBE_HOST"] == "0.0.0.0"
    assert "USER 10001" in docker


# ---- Kubernetes -------------------------------------------------------------------------------------


def _by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _pod(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(doc["spec"]["template"]["spec"])


def test_k8s_kinds(k8s: list[dict[str, Any]]) -> None:
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in k8s)
    assert kinds == [
        ("ConfigMap", "bleibe-config"),
        ("Deployment", "bleibe-api"), ("Deployment", "bleibe-worker"),
        ("HorizontalPodAutoscaler", "bleibe-worker"),
        ("Job", "bleibe-migrate"), ("Job", "bleibe-search-attributes"),
        ("Secret", "bleibe-secrets"), ("Secret", "bleibe-temporal-tls"),
        ("Service", "bleibe-api"),
    ]


def test_k8s_probes_and_resources(k8s: list[dict[str, Any]]) -> None:
    deployments = _by_kind(k8s, "Deployment")
    for name, dep in deployments.items():
        for c in _pod(dep)["containers"]:
            ports = {p["name"]: p["containerPort"] for p in c["ports"]}
            for probe in ("readinessProbe", "livenessProbe"):
                assert c[probe]["httpGet"]["port"] in ports, (name, probe)
            assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
            assert c["resources"]["limits"]["memory"]
    api = _pod(deployments["bleibe-api"])["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["command"] == ["bleibe", "api"]
    worker = _pod(deployments["bleibe-worker"])["containers"][0]
    assert worker["command"] == ["bleibe", "worker"]
    env = {e["name"]: e.get("value") for e in worker["env"]}
    assert worker["livenessProbe"]["httpGet"]["path"] == "/metrics"
    assert worker["ports"][0]["containerPort"] == int(env["BLEIBE_WORKER_METRICS_PORT"])
    assert env["BLEIBE_WORKER_METRICS_HOST"] == "0.0.0.0"  # the kubelet probes the pod's address
    # the pod waits longer than the worker's own drain before SIGKILL
    config = _by_kind(k8s, "ConfigMap")["bleibe-config"]["data"]
    grace = float(config["BLEIBE_WORKER_SHUTDOWN_GRACE_SECONDS"])
    assert _pod(deployments["bleibe-worker"])["terminationGracePeriodSeconds"] > grace


def test_k8s_worker_autoscaler(k8s: list[dict[str, Any]]) -> None:
    hpa = _by_kind(k8s, "HorizontalPodAutoscaler")["bleibe-worker"]
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "bleibe-worker")
    assert target["name"] in _by_kind(k8s, "Deployment")
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def test_k8s_references_resolve_and_env_is_known(k8s: list[dict[str, Any]]) -> None:
    secrets = {n: set(d.get("stringData", {})) | set(d.get("data", {})) for n, d in _by_kind(k8s, "Secret").items()}
    configs = {n: d["data"] for n, d in _by_kind(k8s, "ConfigMap").items()}
    assert set(configs["bleibe-config"]) <= ALIASES, set(configs["bleibe-config"]) - ALIASES
    seen_secret_keys: set[str] = set()
    for doc in [*_by_kind(k8s, "Deployment").values(), *_by_kind(k8s, "Job").values()]:
        pod = _pod(doc)
        for v in pod.get("volumes", []):
            if "secret" in v:
                assert v["secret"]["secretName"] in secrets
        for c in pod["containers"]:
            for ref in c.get("envFrom", []):
                assert ref["configMapRef"]["name"] in configs
            for e in c.get("env", []):
                if not c["image"].startswith("temporalio/"):
                    assert e["name"] in ALIASES, e["name"]
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]], ref
                    seen_secret_keys.add(ref["key"])
    assert seen_secret_keys == secrets["bleibe-secrets"]  # every secret is used, none is missing


def test_k8s_deployments_have_what_they_need(k8s: list[dict[str, Any]]) -> None:
    def env_names(dep: dict[str, Any]) -> set[str]:
        c = _pod(dep)["containers"][0]
        return {e["name"] for e in c["env"]} | set(_by_kind(k8s, "ConfigMap")["bleibe-config"]["data"])

    deps = _by_kind(k8s, "Deployment")
    assert {"DATABASE_URL", "TEMPORAL_ADDRESS", "BLEIBE_CODEC_KEYS", "BLEIBE_SESSION_SECRET"} <= env_names(
        deps["bleibe-api"])
    assert {"DATABASE_URL", "TEMPORAL_ADDRESS", "BLEIBE_CODEC_KEYS"} <= env_names(deps["bleibe-worker"])


def test_k8s_service_selects_the_api_pods(k8s: list[dict[str, Any]]) -> None:
    svc = _by_kind(k8s, "Service")["bleibe-api"]
    api = _by_kind(k8s, "Deployment")["bleibe-api"]
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    assert api["spec"]["selector"]["matchLabels"].items() <= labels.items()
    ports = {p["name"] for p in _pod(api)["containers"][0]["ports"]}
    assert {p["targetPort"] for p in svc["spec"]["ports"]} <= ports


def test_k8s_jobs(k8s: list[dict[str, Any]]) -> None:
    jobs = _by_kind(k8s, "Job")
    assert _pod(jobs["bleibe-migrate"])["containers"][0]["command"] == ["bleibe", "migrate"]
    sa = _pod(jobs["bleibe-search-attributes"])["containers"][0]
    script = "\n".join(sa["args"])
    assert "temporal operator search-attribute create" in script
    assert _sa_pairs(script) == SEARCH_ATTRIBUTES
    for job in jobs.values():
        assert _pod(job)["restartPolicy"] in ("OnFailure", "Never")


def test_helm_values_for_temporal_use_postgres() -> None:
    values = yaml.safe_load((DEPLOY / "k8s" / "values-temporal.yaml").read_text())
    persistence = values["server"]["config"]["persistence"]
    for store in ("default", "visibility"):
        assert persistence[store]["driver"] == "sql"
        assert persistence[store]["sql"]["driver"] == "postgres12"
        assert persistence[store]["sql"]["existingSecret"]
    assert persistence["default"]["sql"]["database"] != persistence["visibility"]["sql"]["database"]
    for bundled in ("cassandra", "mysql", "postgresql", "elasticsearch"):
        assert values[bundled]["enabled"] is False
    codec = {e["name"]: e["value"] for e in values["web"]["additionalEnv"]}
    assert codec["TEMPORAL_CODEC_ENDPOINT"].endswith("/api/v1/codec")
