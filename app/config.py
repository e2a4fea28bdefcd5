"""Every knob of the service: one pydantic-settings class, one `REFRAMER_*` variable each."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-do-not-use-in-production"  # noqa: S105
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"  # noqa: S105
DEV_SERVICE_TOKEN = "dev-only-service-token"  # noqa: S105
DEV_STRIPE_SECRET_KEY = "sk_test_dev-only-stripe-key-do-not-use-in-production"  # noqa: S105
DEV_STRIPE_WEBHOOK_SECRET = "whsec_dev-only-stripe-webhook-secret"  # noqa: S105
DEV_STRIPE_PRICES = frozenset({"price_dev_pro", "price_dev_business"})
DEV_SECRETS = frozenset(
    {
        DEV_JWT_SECRET,
        DEV_SECRET_KEY,
        DEV_SERVICE_TOKEN,
        DEV_STRIPE_SECRET_KEY,
        DEV_STRIPE_WEBHOOK_SECRET,
    }
)
SECRET_SETTINGS = (
    "jwt_secret",
    "secret_key",
    "service_token",
    "stripe_secret_key",
    "stripe_webhook_secret",
)
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

    # Billing (Stripe). The development key never reaches Stripe: billing answers 503 on it.
    stripe_secret_key: str = Field(DEV_STRIPE_SECRET_KEY, description="Stripe secret API key")
    stripe_webhook_secret: str = Field(
        DEV_STRIPE_WEBHOOK_SECRET, description="signing secret of the Stripe webhook endpoint"
    )
    stripe_price_pro: str = "price_dev_pro"
    stripe_price_business: str = "price_dev_business"
    stripe_api_base: str = "https://api.stripe.com"
    stripe_timeout_seconds: float = Field(20.0, gt=0)
    stripe_max_network_retries: int = Field(2, ge=0, le=5)
    stripe_webhook_tolerance_seconds: int = Field(300, gt=0)

    # Rate limits: `redis://` in production, so every replica spends from one budget.
    rate_limit_storage_uri: str = "memory://"
    rate_limit_storage_timeout_seconds: float = Field(0.25, gt=0)
    # Multiplies every plan's requests_per_minute (tests keep it generous).
    rate_limit_plan_scale: float = Field(1.0, gt=0)
    # Per client IP, for each of register, login, token and refresh (brute force).
    rate_limit_auth_per_minute: int = Field(10, ge=1)
    # How many proxies in front of the service append to X-Forwarded-For (1 behind an ALB).
    trusted_proxy_hops: int = Field(0, ge=0, le=10)

    # Outbox relay
    outbox_relay_enabled: bool = True
    outbox_poll_interval_seconds: float = 0.5
    outbox_batch_size: int = 10
    outbox_max_backoff_seconds: float = 30.0

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
            for name in SECRET_SETTINGS
            if getattr(self, name) in DEV_SECRETS or len(getattr(self, name)) < MIN_SECRET_LENGTH
        ]
        if self.is_sqlite:
            problems.append("REFRAMER_DATABASE_URL points at SQLite; production needs PostgreSQL")
        if any(origin.strip() == "*" for origin in self.cors_origins):
            problems.append("REFRAMER_CORS_ORIGINS contains '*'; list the SPA origins")
        problems.extend(
            f"REFRAMER_STRIPE_PRICE_{name.upper()} is a development placeholder"
            for name in ("pro", "business")
            if getattr(self, f"stripe_price_{name}") in DEV_STRIPE_PRICES
        )
        if self.rate_limit_storage_uri.startswith("memory://"):
            problems.append(
                "REFRAMER_RATE_LIMIT_STORAGE_URI is memory://; replicas need a shared redis://"
            )
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
