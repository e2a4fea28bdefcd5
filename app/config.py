"""Every knob of the service: one pydantic-settings class, one `REFRAMER_*` variable each."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.job_liveness import (
    CONTAINER_HEARTBEAT_INTERVAL_SECONDS,
    MISSED_HEARTBEATS_TOLERATED,
)
from app.domain.keyring import Keyring
from app.domain.webhook_deliveries import (
    DEFAULT_RETRY_SCHEDULE_SECONDS,
    SQS_MAX_VISIBILITY_SECONDS,
)

DEV_JWT_SECRET = "dev-only-jwt-secret-do-not-use-in-production"  # noqa: S105
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"  # noqa: S105
DEV_SERVICE_TOKEN = "dev-only-service-token"  # noqa: S105
DEV_WEBHOOK_SERVICE_TOKEN = "dev-only-webhook-service-token"  # noqa: S105
DEV_STRIPE_SECRET_KEY = "sk_test_dev-only-stripe-key-do-not-use-in-production"  # noqa: S105
DEV_STRIPE_WEBHOOK_SECRET = "whsec_dev-only-stripe-webhook-secret"  # noqa: S105
DEV_STRIPE_PRICES = frozenset({"price_dev_pro", "price_dev_business"})
DEV_SECRETS = frozenset(
    {
        DEV_JWT_SECRET,
        DEV_SECRET_KEY,
        DEV_SERVICE_TOKEN,
        DEV_WEBHOOK_SERVICE_TOKEN,
        DEV_STRIPE_SECRET_KEY,
        DEV_STRIPE_WEBHOOK_SECRET,
    }
)
SECRET_SETTINGS = (
    "jwt_secret",
    "secret_key",
    "service_token",
    "webhook_service_token",
    "stripe_secret_key",
    "stripe_webhook_secret",
)
MIN_SECRET_LENGTH = 32
DEV_EMAIL_FROM = "Reframer <no-reply@reframer.localhost>"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REFRAMER_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development",
        description="production refuses development secrets and local-only settings at start",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="the API's address as customers see it (emailed links, the console)",
    )
    upgrade_url: str = Field(
        "http://127.0.0.1:8000/#/billing",
        description="the upgrade_url a plan refusal (tier_limit, quota_exceeded) points to",
    )
    log_level: str = Field("INFO", description="the root log level")
    log_json: bool = Field(
        True,
        description="one JSON object per log line, with the request, account, job and trace ids",
    )

    # Data
    database_url: str = Field(
        "sqlite+aiosqlite:///./var/reframer.db",
        description="SQLAlchemy async URL; postgresql+asyncpg://... in production",
    )
    database_pool_size: int = Field(10, ge=1, description="PostgreSQL: connections per process")
    database_max_overflow: int = Field(
        0,
        ge=0,
        description="PostgreSQL: connections opened beyond the pool in a burst, closed after use",
    )
    database_connect_timeout_seconds: float = Field(
        5.0, gt=0, description="PostgreSQL: give up on a new connection after this long"
    )
    database_pool_timeout_seconds: float = Field(
        10.0, gt=0, description="PostgreSQL: give up waiting for a pooled connection after this"
    )
    database_echo: bool = Field(False, description="log every SQL statement (debugging)")

    # Secrets: safe only on a developer's machine; production refuses them.
    jwt_secret: str = Field(
        DEV_JWT_SECRET,
        description="HS256 key of access tokens; changing it only ends access tokens",
    )
    secret_key: str = Field(
        DEV_SECRET_KEY,
        description="root of the keys (HKDF, one per purpose) that hash API keys and opaque "
        "tokens and seal webhook secrets",
    )
    previous_secret_keys: list[str] = Field(
        default_factory=list,
        description="earlier secret keys, still accepted for reading during a rotation "
        "(docs/security.md: rotating the secret key)",
    )
    # One token per Lambda: the webhook sender, which talks to customers' servers, cannot
    # dispatch jobs, and the dispatcher cannot read webhook secrets.
    service_token: str = Field(
        DEV_SERVICE_TOKEN, description="bearer token of the job_dispatcher Lambda"
    )
    webhook_service_token: str = Field(
        DEV_WEBHOOK_SERVICE_TOKEN,
        description="bearer token of the webhook_delivery Lambda; production refuses it equal "
        "to the dispatcher's",
    )

    # Auth
    jwt_algorithm: Literal["HS256"] = Field(
        "HS256", description="the one algorithm access tokens are signed and checked with"
    )
    access_token_ttl_seconds: int = Field(900, description="lifetime of an access token")
    refresh_token_ttl_seconds: int = Field(
        30 * 24 * 3600, description="lifetime of a refresh token (rotated on every use)"
    )
    bcrypt_rounds: int = Field(12, ge=4, le=16, description="password hashing cost")
    api_keys_max_per_account: int = Field(
        20, ge=1, description="active (unrevoked) API keys an account may hold"
    )

    # HTTP
    cors_origins: list[str] = Field(
        ["http://127.0.0.1:8000", "http://localhost:8000"],
        description="the console's origins (a JSON list); production refuses '*'",
    )
    max_request_body_bytes: int = Field(
        1024 * 1024, description="a larger request body is answered 413"
    )

    # AWS
    aws_region: str = Field("us-east-1", description="the region of the bucket and queues")
    aws_endpoint_url: str | None = Field(
        None, description="an S3 and SQS endpoint other than AWS's (moto in the local run)"
    )
    s3_bucket: str = Field("reframer-media-local", description="the bucket of sources and outputs")
    jobs_queue_url: str = Field(
        "http://127.0.0.1:5000/123456789012/reframer-jobs.fifo",
        description="the SQS FIFO queue the job_dispatcher Lambda reads",
    )
    webhooks_queue_url: str = Field(
        "http://127.0.0.1:5000/123456789012/reframer-webhooks",
        description="the SQS queue the webhook_delivery Lambda reads",
    )
    cap_pending_uploads: bool = Field(
        True,
        description="refuse a new job past the plan's jobs waiting for an upload; only a "
        "benchmark that creates thousands for one account turns it off (production refuses)",
    )
    # Short: a leaked upload URL can be replayed (up to the plan's size) until it expires.
    upload_url_ttl_seconds: int = Field(
        900, ge=60, le=7 * 24 * 3600, description="lifetime of a presigned upload (or part) URL"
    )
    download_url_ttl_seconds: int = Field(
        3600, ge=60, le=7 * 24 * 3600, description="lifetime of a presigned download URL"
    )
    # Multipart uploads (app.services.jobs.multipart): above the threshold a source arrives in
    # parts, each with its own presigned URL (valid upload_url_ttl_seconds, renewable).
    multipart_threshold_bytes: int = Field(
        64 * 1024**2,
        ge=5 * 1024**2,
        le=5 * 1024**3,  # S3 takes no single PUT above 5 GiB
        description="sources larger than this upload in parts; smaller ones in one PUT",
    )
    multipart_min_part_bytes: int = Field(
        8 * 1024**2,
        ge=5 * 1024**2,
        le=512 * 1024**2,
        description="the smallest part size handed out (larger sources get larger parts)",
    )
    multipart_upload_window_seconds: int = Field(
        12 * 3600,
        ge=600,
        le=24 * 3600,  # the bucket's lifecycle rule aborts incomplete uploads after a day
        description="how long a multipart job may take to upload its parts before it expires",
    )
    multipart_urls_per_request: int = Field(
        100, ge=1, le=1000, description="part URLs handed out by one create or part-URL request"
    )

    # Jobs
    callback_base_url: str = Field(
        "",
        description="base of the URLs the Batch container calls back on; empty = public_url",
    )
    upload_confirm_grace_seconds: int = Field(
        900,
        ge=0,
        description="how long after its upload URL expires a job may still be confirmed; "
        "then it expires",
    )
    job_sweeper_enabled: bool = Field(
        True,
        description="run the sweeper in the API process: expires uploads never confirmed, "
        "re-sends stuck queued jobs, fails lost containers, deletes rows past retention",
    )
    job_sweep_interval_seconds: float = Field(
        60.0, gt=0, description="the pause between two sweeper rounds"
    )
    job_heartbeat_timeout_seconds: int = Field(
        300,
        ge=CONTAINER_HEARTBEAT_INTERVAL_SECONDS * MISSED_HEARTBEATS_TOLERATED,
        description="a running job with no callback from its container for this long is "
        "failed as container_lost (the container heartbeats every "
        f"{CONTAINER_HEARTBEAT_INTERVAL_SECONDS} s)",
    )
    job_submitted_timeout_seconds: int = Field(
        24 * 3600,
        gt=0,
        description="a job submitted to Batch whose container never started for this long "
        "is failed as container_lost (Batch queues may hold jobs for hours)",
    )
    job_queued_timeout_seconds: int = Field(
        2100,
        ge=30,
        description="a queued job no dispatch took to Batch this long after its message was "
        "enqueued is enqueued again (the default outlasts the jobs queue's five 360 s "
        "receives before its DLQ)",
    )
    job_dispatch_attempts: int = Field(
        3,
        ge=0,
        description="how many times the sweeper enqueues a stuck queued job again; after "
        "that it fails as dispatch_failed",
    )
    # Long sources render as an AWS Batch array job (analyse, segments in parallel, join).
    render_split_threshold_seconds: int = Field(
        1200,
        gt=0,
        description="a source declared longer than this renders in segments on parallel "
        "containers; shorter ones (or undeclared) in one container",
    )
    render_segment_seconds: int = Field(
        180, gt=0, description="about how long each segment of a split render is"
    )
    render_split_max_children: int = Field(
        64, ge=2, le=10_000, description="the most containers one split render uses at once"
    )
    # Stripe keeps idempotency keys 24 h; a shorter window would replay nothing a client expects.
    idempotency_key_ttl_seconds: int = Field(
        24 * 3600, ge=24 * 3600, description="how long an Idempotency-Key replays its response"
    )

    # Retention: the sweeper deletes rows whose purpose is over (app.retention.rules).
    webhook_event_retention_days: int = Field(
        30,
        ge=1,
        description="a webhook event whose deliveries all finished this long ago is deleted, "
        "with its deliveries and attempts (the customer's delivery log)",
    )
    email_token_retention_days: int = Field(
        7, ge=1, description="an emailed link is deleted this long after it expired"
    )
    refresh_token_retention_days: int = Field(
        7, ge=1, description="a refresh token is deleted this long after it expired or was revoked"
    )
    # Stripe retries a webhook for up to 3 days; the inbox must recognise every retry.
    stripe_event_retention_days: int = Field(
        90, ge=7, description="a processed Stripe event id is forgotten after this long"
    )
    retention_batch_size: int = Field(
        500,
        ge=1,
        description="rows one retention delete takes (sweeper, outbox prune), a transaction each",
    )

    # Email: sent by the outbox relay over SMTP. The defaults reach the local sink
    # (`python -m devstack.smtp_sink`); production sets a real relay with STARTTLS and auth.
    smtp_host: str = Field(
        "127.0.0.1", description="the SMTP server; production refuses a loopback one"
    )
    smtp_port: int = Field(8025, ge=1, le=65535, description="the SMTP server's port")
    smtp_username: str | None = Field(
        None, description="SMTP login; production sends credentials only over STARTTLS"
    )
    smtp_password: str | None = Field(None, description="SMTP password")
    smtp_starttls: bool = Field(False, description="upgrade the SMTP connection with STARTTLS")
    smtp_ca_bundle: str | None = Field(
        None, description="PEM file of the CA to trust for the SMTP server; else the system's"
    )
    smtp_timeout_seconds: float = Field(
        10.0, gt=0, description="give up on an SMTP connection or command after this long"
    )
    email_from: str = Field(
        DEV_EMAIL_FROM, description="the From address; production refuses the development one"
    )
    smtp_sink_dir: str = Field("var/mail", description="where the local sink stores .eml files")
    email_verification_ttl_seconds: int = Field(
        24 * 3600, gt=0, description="lifetime of an emailed verification link"
    )
    password_reset_ttl_seconds: int = Field(
        3600, gt=0, description="lifetime of an emailed password-reset link"
    )
    # forgot-password answers no sooner than this, known address or not: only a known one
    # writes, and the write must not show in the response time.
    forgot_password_min_response_seconds: float = Field(
        0.25, ge=0, description="forgot-password answers no sooner than this"
    )
    # Per account and kind of email: a short cooldown, then a cap per rolling hour.
    email_resend_cooldown_seconds: int = Field(
        60, ge=0, description="the wait before an email of the same kind is sent again"
    )
    email_resend_max_per_hour: int = Field(
        5, ge=1, description="emails of one kind an account may ask for per rolling hour"
    )

    # Billing (Stripe). The development key never reaches Stripe: billing answers 503 on it.
    stripe_secret_key: str = Field(DEV_STRIPE_SECRET_KEY, description="Stripe secret API key")
    stripe_webhook_secret: str = Field(
        DEV_STRIPE_WEBHOOK_SECRET, description="signing secret of the Stripe webhook endpoint"
    )
    stripe_price_pro: str = Field(
        "price_dev_pro", description="the Stripe price that sells the pro plan"
    )
    stripe_price_business: str = Field(
        "price_dev_business", description="the Stripe price that sells the business plan"
    )
    stripe_api_base: str = Field(
        "https://api.stripe.com",
        description="Stripe's API; tests and make run point it at a stand-in on loopback",
    )
    stripe_timeout_seconds: float = Field(20.0, gt=0, description="per call to Stripe")
    stripe_max_network_retries: int = Field(
        2, ge=0, le=5, description="retries of a call to Stripe (reusing its idempotency key)"
    )
    stripe_webhook_tolerance_seconds: int = Field(
        300, gt=0, description="an older Stripe signature is refused (replay protection)"
    )

    # Rate limits: `redis://` in production, so every replica spends from one budget.
    rate_limit_storage_uri: str = Field(
        "memory://",
        description="where budgets are counted; production refuses memory:// (use redis://)",
    )
    rate_limit_storage_timeout_seconds: float = Field(
        0.25,
        gt=0,
        description="a slower storage counts as down: the API fails open, sign-in fails closed",
    )
    # Multiplies every plan's requests_per_minute (tests keep it generous).
    rate_limit_plan_scale: float = Field(
        1.0, gt=0, description="multiplies each plan's requests_per_minute"
    )
    # Per client IP, for register, refresh and sign-in (login and token share one budget).
    rate_limit_auth_per_minute: int = Field(
        10, ge=1, description="per client IP, on each of register, sign-in and refresh"
    )
    # Per account, from any address: failed sign-ins past the free ones make the next wait
    # 1, 2, 4 ... seconds, up to the cap; the count is forgotten after the window or a success.
    login_free_failures: int = Field(
        5, ge=1, description="failed sign-ins of an account before waits begin"
    )
    login_max_delay_seconds: int = Field(
        300, ge=1, le=3600, description="the longest wait after failed sign-ins"
    )
    login_failure_window_seconds: int = Field(
        3600, ge=60, description="how long an account's failed sign-ins are remembered"
    )
    # How many proxies in front of the service append to X-Forwarded-For (1 behind an ALB).
    trusted_proxy_hops: int = Field(
        0,
        ge=0,
        le=10,
        description="proxies that append to X-Forwarded-For (1 behind the ALB); production "
        "refuses 0",
    )

    # Outbox relay
    outbox_relay_enabled: bool = Field(True, description="run the relay in the API process")
    outbox_poll_interval_seconds: float = Field(
        0.5, description="the relay's pause between passes when nothing is waiting"
    )
    # Rows claimed per pass: SQS takes ten a call, and the publisher sends a few calls at once.
    outbox_batch_size: int = Field(
        100, ge=1, description="messages the relay claims per pass (each group kept in order)"
    )
    # SendMessageBatch calls in flight at once per queue and pass (message groups spread over
    # them). Against SQS a call mostly waits on the network, so a few at once multiply
    # throughput; against a CPU-bound endpoint (moto) one at a time is faster.
    outbox_sqs_concurrent_batches: int = Field(
        4, ge=1, le=32, description="SendMessageBatch calls in flight per queue"
    )
    outbox_max_backoff_seconds: float = Field(
        30.0,
        description="the longest pause of the relay after passes in which every send failed "
        "(it doubles from the poll interval)",
    )

    # Observability
    metrics_enabled: bool = Field(True, description="serve Prometheus metrics at /metrics")
    metrics_token: str | None = Field(
        None,
        description="bearer token a scraper sends to /metrics; production serves /metrics "
        "only with one set",
    )
    # The standard OpenTelemetry variable, unprefixed: tracing runs only when it is set.
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
        description="OTLP/HTTP base URL of a collector, e.g. http://127.0.0.1:4318",
    )
    # None: on in development, off elsewhere.
    loop_watchdog_enabled: bool | None = Field(
        None,
        description="log event-loop blocks with the stack that held the loop; unset, on in "
        "development only",
    )
    loop_watchdog_threshold_ms: int = Field(
        100, ge=10, description="the event-loop block worth a warning"
    )

    # Webhooks
    webhook_allow_private_targets: bool = Field(
        True,
        description="deliver to loopback and private addresses: unset, true except in "
        "production; production refuses true",
    )
    webhook_retry_schedule_seconds: list[int] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE_SECONDS),
        description="the wait before each retry; its length is the number of retries",
    )
    webhook_disable_after_consecutive_failures: int = Field(
        10, ge=1, description="an endpoint whose last N finished deliveries failed is disabled"
    )

    @model_validator(mode="before")
    @classmethod
    def _private_targets_follow_the_environment(cls, data: Any) -> Any:
        # Unset, a loopback receiver works in `make run` and production stays guarded.
        if isinstance(data, dict) and data.get("webhook_allow_private_targets") is None:
            environment = data.get("environment", "development")
            data = {**data, "webhook_allow_private_targets": environment != "production"}
        return data

    @field_validator("webhook_retry_schedule_seconds")
    @classmethod
    def _retry_steps_fit_sqs(cls, steps: list[int]) -> list[int]:
        if any(step < 0 or step > SQS_MAX_VISIBILITY_SECONDS for step in steps):
            raise ValueError(
                f"every retry step must be between 0 and {SQS_MAX_VISIBILITY_SECONDS} seconds "
                "(the SQS visibility timeout limit)"
            )
        return steps

    @model_validator(mode="after")
    def _submitted_jobs_wait_longer_than_running_ones(self) -> Settings:
        if self.job_submitted_timeout_seconds < self.job_heartbeat_timeout_seconds:
            raise ValueError(
                "REFRAMER_JOB_SUBMITTED_TIMEOUT_SECONDS must be at least "
                "REFRAMER_JOB_HEARTBEAT_TIMEOUT_SECONDS: a queued Batch job waits before it runs"
            )
        return self

    @property
    def keyring(self) -> Keyring:
        # Cached by value, not on the instance: `model_copy(update=...)` copies instance state.
        return _keyring(self.secret_key, tuple(self.previous_secret_keys))

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def loop_watchdog_active(self) -> bool:
        if self.loop_watchdog_enabled is None:
            return self.environment == "development"
        return self.loop_watchdog_enabled

    @property
    def metrics_served(self) -> bool:
        """Production never serves /metrics without a token: it would be public."""
        if not self.metrics_enabled:
            return False
        return self.metrics_token is not None or not self.is_production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if not self.callback_base_url:
            self.callback_base_url = self.public_url
        self.callback_base_url = self.callback_base_url.rstrip("/")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if not self.is_production:
            return self
        problems = [
            f"REFRAMER_{name.upper()} is a development secret or shorter than "
            f"{MIN_SECRET_LENGTH} characters"
            for name in SECRET_SETTINGS
            if getattr(self, name) in DEV_SECRETS or len(getattr(self, name)) < MIN_SECRET_LENGTH
        ]
        problems.extend(
            f"REFRAMER_PREVIOUS_SECRET_KEYS entry {n} is a development secret or shorter than "
            f"{MIN_SECRET_LENGTH} characters"
            for n, previous in enumerate(self.previous_secret_keys, start=1)
            if previous in DEV_SECRETS or len(previous) < MIN_SECRET_LENGTH
        )
        if self.metrics_token is not None and (
            self.metrics_token in DEV_SECRETS or len(self.metrics_token) < MIN_SECRET_LENGTH
        ):
            problems.append(
                f"REFRAMER_METRICS_TOKEN is shorter than {MIN_SECRET_LENGTH} characters"
            )
        if self.service_token == self.webhook_service_token:
            problems.append(
                "REFRAMER_SERVICE_TOKEN and REFRAMER_WEBHOOK_SERVICE_TOKEN are the same; "
                "each Lambda needs its own"
            )
        if self.is_sqlite:
            problems.append("REFRAMER_DATABASE_URL points at SQLite; production needs PostgreSQL")
        if any(origin.strip() == "*" for origin in self.cors_origins):
            problems.append("REFRAMER_CORS_ORIGINS contains '*'; list the SPA origins")
        problems.extend(self._smtp_problems())

        if self.webhook_allow_private_targets:
            problems.append(
                "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS is true; "
                "webhooks could reach internal hosts"
            )
        problems.extend(
            f"REFRAMER_STRIPE_PRICE_{name.upper()} is a development placeholder"
            for name in ("pro", "business")
            if getattr(self, f"stripe_price_{name}") in DEV_STRIPE_PRICES
        )
        if not self.cap_pending_uploads:
            problems.append("REFRAMER_CAP_PENDING_UPLOADS is false; plans' upload caps are off")
        if self.trusted_proxy_hops == 0:
            # Production runs behind the ALB (infra/template.yaml sets 1): with 0, every client
            # would be the ALB's address, and one guesser would spend everyone's sign-in budget.
            problems.append(
                "REFRAMER_TRUSTED_PROXY_HOPS is 0; behind the load balancer set the number of "
                "proxies that append to X-Forwarded-For (1 behind the ALB)"
            )
        if self.rate_limit_storage_uri.startswith("memory://"):
            problems.append(
                "REFRAMER_RATE_LIMIT_STORAGE_URI is memory://; replicas need a shared redis://"
            )
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    def _smtp_problems(self) -> list[str]:
        problems = []
        if self.smtp_host.strip().lower() in LOOPBACK_HOSTS:
            problems.append(
                "REFRAMER_SMTP_HOST is loopback, the local sink: point it at the SMTP relay"
            )
        if (self.smtp_username or self.smtp_password) and not self.smtp_starttls:
            problems.append(
                "REFRAMER_SMTP_USERNAME/PASSWORD would cross the network in clear text "
                "without REFRAMER_SMTP_STARTTLS=true"
            )
        if self.email_from == DEV_EMAIL_FROM:
            problems.append("REFRAMER_EMAIL_FROM is the development sender, not a real address")
        return problems


@lru_cache(maxsize=8)
def _keyring(secret_key: str, previous: tuple[str, ...]) -> Keyring:
    return Keyring(secret_key, previous)


@lru_cache
def get_settings() -> Settings:
    return Settings()
