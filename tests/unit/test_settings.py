"""Production refuses to start on development defaults, and says which setting is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings

STRONG = "s" * 40
PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://app:pw@db.internal:5432/reframer",
    "jwt_secret": STRONG + "j",
    "secret_key": STRONG + "k",
    "service_token": STRONG + "t",
    "cors_origins": ["https://app.reframer.dev"],
}


def make(**overrides: object) -> Settings:
    return Settings(_env_file=None, **{**PRODUCTION, **overrides})  # type: ignore[arg-type]


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
    ],
)
def test_production_refuses_unsafe_settings(override: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        make(**override)


def test_development_runs_on_the_embedded_defaults() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.is_sqlite
    assert not settings.is_production


def test_every_setting_reads_its_prefixed_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFRAMER_ACCESS_TOKEN_TTL_SECONDS", "60")
    monkeypatch.setenv("REFRAMER_CORS_ORIGINS", '["https://a.example"]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.access_token_ttl_seconds == 60
    assert settings.cors_origins == ["https://a.example"]
