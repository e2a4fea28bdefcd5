"""Every knob of the service: one pydantic-settings class, one `REFRAMER_*` variable each."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.webhook_deliveries import (
    DEFAULT_RETRY_SCHEDULE_SECONDS,
    SQS_MAX_VISIBILITY_SECONDS,
)

DEV_JWT_SECRET = "dev-only-jwt-secret-do-not-use-in-production"  # noqa: S105
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"  # noqa: S105
DEV_SERVICE_TOKEN = "dev-only-service-token"  # noqa: S105
DEV_SECRETS = frozenset({DEV_JWT_SECRET, DEV_SECRET_KEY, DEV_SERVICE_TOKEN})
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REFRAMER_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    public_url: str = "http://127.0.0.1:8000"
    upgrade_url: str = "http://127.0.0.1:8000/#/billing"
    log_level: str = "INFO"
    log_json: bool = True

    # Data
    database_url: str = "sqlite+aiosqlite:///./var/reframer.db"
    database_pool_size: int = 10
    database_echo: bool = False

    # Secrets: safe only on a developer's machine; production refuses them.
    jwt_secret: str = DEV_JWT_SECRET
    secret_key: str = Field(DEV_SECRET_KEY, description="HMAC key for API keys and opaque tokens")
    service_token: str = Field(DEV_SERVICE_TOKEN, description="bearer token of the Lambdas")

    # Auth
    jwt_algorithm: Literal["HS256"] = "HS256"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    bcrypt_rounds: int = Field(12, ge=4, le=16)

    # HTTP
    cors_origins: list[str] = ["http://127.0.0.1:8000", "http://localhost:8000"]
    max_request_body_bytes: int = 1024 * 1024

    # AWS
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    s3_bucket: str = "reframer-media-local"
    jobs_queue_url: str = "http://127.0.0.1:5000/123456789012/reframer-jobs.fifo"
    webhooks_queue_url: str = "http://127.0.0.1:5000/123456789012/reframer-webhooks"
    upload_url_ttl_seconds: int = 3600
    download_url_ttl_seconds: int = 3600

    # Outbox relay
    outbox_relay_enabled: bool = True
    outbox_poll_interval_seconds: float = 0.5
    outbox_batch_size: int = 10
    outbox_max_backoff_seconds: float = 30.0

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

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if not self.is_production:
            return self
        problems = [
            f"REFRAMER_{name.upper()} is a development secret or shorter than "
            f"{MIN_SECRET_LENGTH} characters"
            for name in ("jwt_secret", "secret_key", "service_token")
            if getattr(self, name) in DEV_SECRETS or len(getattr(self, name)) < MIN_SECRET_LENGTH
        ]
        if self.is_sqlite:
            problems.append("REFRAMER_DATABASE_URL points at SQLite; production needs PostgreSQL")
        if any(origin.strip() == "*" for origin in self.cors_origins):
            problems.append("REFRAMER_CORS_ORIGINS contains '*'; list the SPA origins")
        if self.webhook_allow_private_targets:
            problems.append(
                "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS is true; "
                "webhooks could reach internal hosts"
            )
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
