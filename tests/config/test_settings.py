"""Production refuses to start on development defaults, and says which setting is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings
from tests.support.production import production_settings


def make(**overrides: object) -> Settings:
    return production_settings(**overrides)


def test_a_complete_production_configuration_starts() -> None:
    assert make().is_production


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"jwt_secret": Settings.model_fields["jwt_secret"].default}, "REFRAMER_JWT_SECRET"),
        ({"secret_key": "short"}, "REFRAMER_SECRET_KEY"),
        (
            {"service_token": Settings.model_fields["service_token"].default},
            "REFRAMER_SERVICE_TOKEN",
        ),
        ({"database_url": "sqlite+aiosqlite:///./x.db"}, "REFRAMER_DATABASE_URL"),
        ({"cors_origins": ["*"]}, "REFRAMER_CORS_ORIGINS"),
        ({"metrics_token": "short"}, "REFRAMER_METRICS_TOKEN"),
        (
            {"metrics_token": Settings.model_fields["service_token"].default},
            "REFRAMER_METRICS_TOKEN",
        ),
        (
            {"stripe_secret_key": Settings.model_fields["stripe_secret_key"].default},
            "REFRAMER_STRIPE_SECRET_KEY",
        ),
        ({"stripe_webhook_secret": "whsec_short"}, "REFRAMER_STRIPE_WEBHOOK_SECRET"),
        (
            {"stripe_price_pro": Settings.model_fields["stripe_price_pro"].default},
            "REFRAMER_STRIPE_PRICE_PRO",
        ),
        ({"rate_limit_storage_uri": "memory://"}, "REFRAMER_RATE_LIMIT_STORAGE_URI"),
        # Behind the ALB, 0 would make every client one address: one guesser spends
        # everyone's sign-in budget.
        ({"trusted_proxy_hops": 0}, "REFRAMER_TRUSTED_PROXY_HOPS"),
        ({"cap_pending_uploads": False}, "REFRAMER_CAP_PENDING_UPLOADS"),
        ({"previous_secret_keys": ["short"]}, "REFRAMER_PREVIOUS_SECRET_KEYS"),
    ],
)
def test_production_refuses_unsafe_settings(override: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        make(**override)


def test_production_serves_metrics_only_behind_a_token() -> None:
    assert not make().metrics_served
    assert make(metrics_token="m" * 40).metrics_served
    assert not make(metrics_token="m" * 40, metrics_enabled=False).metrics_served


def test_the_standard_otlp_variable_switches_tracing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert Settings(_env_file=None).otel_exporter_otlp_endpoint is None  # type: ignore[call-arg]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.otel_exporter_otlp_endpoint == "http://collector:4318"


def test_development_runs_on_the_embedded_defaults() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.is_sqlite
    assert not settings.is_production


def test_every_setting_reads_its_prefixed_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFRAMER_ACCESS_TOKEN_TTL_SECONDS", "60")
    monkeypatch.setenv("REFRAMER_CORS_ORIGINS", '["https://a.example"]')
    monkeypatch.setenv("REFRAMER_RATE_LIMIT_STORAGE_URI", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("REFRAMER_TRUSTED_PROXY_HOPS", "2")
    monkeypatch.setenv("REFRAMER_STRIPE_API_BASE", "http://127.0.0.1:12111")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.access_token_ttl_seconds == 60
    assert settings.cors_origins == ["https://a.example"]
    assert settings.rate_limit_storage_uri == "redis://127.0.0.1:6379/1"
    assert settings.trusted_proxy_hops == 2
    assert settings.stripe_api_base == "http://127.0.0.1:12111"
