"""Configuration from the environment (pydantic-settings); every variable is documented in README.md."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, computed_field
from pydantic_settings import BaseSettings, SettingsConfigDict

TASK_QUEUE = "bleibe-cases"


class Settings(BaseSettings):
    """All settings of Bleibe; read once per process through `get_settings()`."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    # Where the embedded stack keeps its files (SQLite of the service and of Temporal, dev codec key).
    data_dir: Path = Field(default=Path("var"), alias="BLEIBE_DATA_DIR")
    host: str = Field(default="127.0.0.1", alias="BLEIBE_HOST")
    port: int = Field(default=8000, alias="BLEIBE_PORT")
    public_url: str | None = Field(default=None, alias="BLEIBE_PUBLIC_URL")
    environment: str = Field(default="development", alias="BLEIBE_ENV")
    log_format: str = Field(default="auto", alias="BLEIBE_LOG_FORMAT")  # auto | json | console
    log_level: str = Field(default="INFO", alias="BLEIBE_LOG_LEVEL")

    database_url_raw: str | None = Field(default=None, alias="DATABASE_URL")

    temporal_address: str | None = Field(default=None, alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", alias="TEMPORAL_NAMESPACE")
    temporal_ui_port: int = Field(default=8233, alias="BLEIBE_TEMPORAL_UI_PORT")
    # Origins of a Temporal Web UI elsewhere (a cluster's UI) that may call the remote codec, comma-separated
    # ("https://temporal.example.org"); the embedded dev server's UI on this machine is always allowed.
    temporal_ui_origins_raw: str = Field(default="", alias="BLEIBE_TEMPORAL_UI_ORIGINS")
    temporal_port: int | None = Field(default=None, alias="BLEIBE_TEMPORAL_PORT")
    temporal_tls_cert: Path | None = Field(default=None, alias="TEMPORAL_TLS_CERT")
    temporal_tls_key: Path | None = Field(default=None, alias="TEMPORAL_TLS_KEY")
    temporal_api_key: SecretStr | None = Field(default=None, alias="TEMPORAL_API_KEY")
    # A self-hosted cluster with its own CA (Temporal Cloud's certificates chain to a public root).
    temporal_tls_ca: Path | None = Field(default=None, alias="TEMPORAL_TLS_CA")
    temporal_tls_server_name: str | None = Field(default=None, alias="TEMPORAL_TLS_SERVER_NAME")
    task_queue: str = Field(default=TASK_QUEUE, alias="BLEIBE_TASK_QUEUE")
    # Upsert the custom search attributes (off only against a server without them registered).
    search_attributes: bool = Field(default=True, alias="BLEIBE_SEARCH_ATTRIBUTES")

    # Worker tuning.
    worker_max_concurrent_activities: int = Field(default=50, alias="BLEIBE_WORKER_MAX_ACTIVITIES")
    worker_max_concurrent_workflow_tasks: int = Field(default=50, alias="BLEIBE_WORKER_MAX_WORKFLOW_TASKS")
    worker_max_cached_workflows: int = Field(default=2000, alias="BLEIBE_WORKER_MAX_CACHED_WORKFLOWS")
    # How long a cached workflow's next task waits for this worker before any worker may take it; short
    # timeouts move work off a killed worker sooner, long ones keep more replays away.
    worker_sticky_timeout_seconds: float = Field(default=10.0, gt=0, alias="BLEIBE_WORKER_STICKY_TIMEOUT_SECONDS")
    # On SIGTERM running activities get this long to finish before they are cancelled (and retried elsewhere).
    worker_shutdown_grace_seconds: float = Field(default=10.0, ge=0, alias="BLEIBE_WORKER_SHUTDOWN_GRACE_SECONDS")
    # The SDK's Prometheus endpoint (also the worker's liveness probe); a random local port when unset.
    worker_metrics_host: str = Field(default="127.0.0.1", alias="BLEIBE_WORKER_METRICS_HOST")
    worker_metrics_port: int | None = Field(default=None, alias="BLEIBE_WORKER_METRICS_PORT")

    # Payload codec keys: "kid1:base64key,kid2:base64key"; the first one encrypts, all decrypt.
    codec_keys: SecretStr | None = Field(default=None, alias="BLEIBE_CODEC_KEYS")

    # Timer lead times and SLAs, in days.
    eligibility_lead_days: int = Field(default=28, alias="BLEIBE_ELIGIBILITY_LEAD_DAYS")
    document_reminder_days: int = Field(default=7, alias="BLEIBE_DOCUMENT_REMINDER_DAYS")
    review_sla_days: int = Field(default=28, alias="BLEIBE_REVIEW_SLA_DAYS")
    duldung_reminder_days: int = Field(default=21, alias="BLEIBE_DULDUNG_REMINDER_DAYS")
    appeal_reminder_days: int = Field(default=7, alias="BLEIBE_APPEAL_REMINDER_DAYS")
    holiday_state: str = Field(default="SN", alias="BLEIBE_HOLIDAY_STATE")

    # Joint meetings: every `interval` weeks on `weekday` (0 = Monday) counted from `anchor`; the agenda
    # closes `cutoff` working days before the meeting.
    meeting_weekday: int = Field(default=1, ge=0, le=6, alias="BLEIBE_MEETING_WEEKDAY")
    meeting_interval_weeks: int = Field(default=4, ge=1, le=26, alias="BLEIBE_MEETING_INTERVAL_WEEKS")
    meeting_anchor: date = Field(default=date(2026, 1, 6), alias="BLEIBE_MEETING_ANCHOR")
    agenda_cutoff_working_days: int = Field(default=2, ge=0, le=20, alias="BLEIBE_AGENDA_CUTOFF_DAYS")
    # How often the Temporal Schedule runs the planner that keeps the next meeting planned.
    meeting_planner_every_hours: int = Field(default=24, ge=1, le=24 * 28, alias="BLEIBE_MEETING_PLANNER_EVERY_HOURS")

    # Ops: days a case may stay in a stage before it counts as stuck ("intake=30,document_collection=60,...").
    stage_sla_days_raw: str = Field(
        default="intake=60,document_collection=90,authority_review=60,joint_meeting=42,decision=28",
        alias="BLEIBE_STAGE_SLA_DAYS",
    )
    # How many Temporal describe calls the stuck-case check runs at once.
    ops_describe_concurrency: int = Field(default=32, ge=1, le=500, alias="BLEIBE_OPS_DESCRIBE_CONCURRENCY")

    # Notifications (outbox sender in the worker). Without an SMTP host messages are written to the log.
    smtp_host: str | None = Field(default=None, alias="BLEIBE_SMTP_HOST")
    smtp_port: int = Field(default=587, alias="BLEIBE_SMTP_PORT")
    smtp_tls: str = Field(default="starttls", pattern="^(none|starttls|tls)$", alias="BLEIBE_SMTP_TLS")
    smtp_user: str | None = Field(default=None, alias="BLEIBE_SMTP_USER")
    smtp_password: SecretStr | None = Field(default=None, alias="BLEIBE_SMTP_PASSWORD")
    mail_from: str = Field(default="bleibe@localhost", alias="BLEIBE_MAIL_FROM")
    outbox_poll_seconds: float = Field(default=10.0, gt=0, alias="BLEIBE_OUTBOX_POLL_SECONDS")
    outbox_max_attempts: int = Field(default=8, ge=1, alias="BLEIBE_OUTBOX_MAX_ATTEMPTS")
    outbox_backoff_seconds: float = Field(default=30.0, gt=0, alias="BLEIBE_OUTBOX_BACKOFF_SECONDS")

    # Access.
    session_secret: SecretStr | None = Field(default=None, alias="BLEIBE_SESSION_SECRET")
    max_body_bytes: int = Field(default=1_000_000, alias="BLEIBE_MAX_BODY_BYTES")
    # Personal data of cases closed longer than this is deleted by the daily retention schedule.
    retention_days: int = Field(default=365, ge=1, alias="BLEIBE_RETENTION_DAYS")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL: `DATABASE_URL`, or a SQLite file in the data folder."""
        if self.database_url_raw:
            url = self.database_url_raw
            # Accept the common spellings and use the async drivers we ship.
            if url.startswith("postgres://"):
                url = "postgresql://" + url[len("postgres://") :]
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            if url.startswith("sqlite:///"):
                url = "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
            return url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'bleibe.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def temporal_ui_origins(self) -> set[str]:
        """`BLEIBE_TEMPORAL_UI_ORIGINS` as a set, each without a trailing slash (browsers send none)."""
        return {o.strip().rstrip("/") for o in self.temporal_ui_origins_raw.split(",") if o.strip()}

    @property
    def stage_sla_days(self) -> dict[str, float]:
        """`BLEIBE_STAGE_SLA_DAYS` as {stage: days}; a malformed entry raises rather than being ignored."""
        out: dict[str, float] = {}
        for part in self.stage_sla_days_raw.split(","):
            if part.strip():
                stage, _, days = part.partition("=")
                out[stage.strip()] = float(days)
        return out


@lru_cache
def get_settings() -> Settings:
    """The process's settings; tests call `get_settings.cache_clear()` after changing the environment."""
    return Settings()
