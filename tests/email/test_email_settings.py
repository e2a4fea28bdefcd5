"""Production refuses SMTP settings that would lose mail or leak credentials."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings

PRODUCTION_OK: dict[str, Any] = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://u:p@db:5432/reframer",
    "jwt_secret": "j" * 40,
    "secret_key": "k" * 40,
    "service_token": "s" * 40,
    "smtp_host": "email-smtp.eu-west-1.amazonaws.com",
    "smtp_port": 587,
    "smtp_starttls": True,
    "smtp_username": "AKIAEXAMPLE",
    "smtp_password": "p" * 40,
    "email_from": "Reframer <no-reply@reframer.dev>",
}


def _email_refusals(**overrides: Any) -> list[str]:
    """The production refusals about email; other features' checks are not this test's."""
    try:
        Settings(_env_file=None, **{**PRODUCTION_OK, **overrides})  # type: ignore[call-arg]
    except ValueError as exc:
        reasons = str(exc).split("refusing to start in production: ", 1)[-1].split("; ")
        return [r for r in reasons if "SMTP" in r or "EMAIL" in r]
    return []


def test_a_complete_production_smtp_setup_is_accepted() -> None:
    assert _email_refusals() == []


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"smtp_host": "127.0.0.1"}, "REFRAMER_SMTP_HOST"),
        ({"smtp_host": "localhost"}, "REFRAMER_SMTP_HOST"),
        ({"smtp_starttls": False}, "REFRAMER_SMTP_STARTTLS"),
        ({"email_from": Settings.model_fields["email_from"].default}, "REFRAMER_EMAIL_FROM"),
    ],
)
def test_production_refuses_unsafe_smtp_settings(overrides: dict[str, Any], variable: str) -> None:
    [refusal] = _email_refusals(**overrides)
    assert variable in refusal


def test_development_defaults_reach_the_local_sink() -> None:
    local = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (local.smtp_host, local.smtp_port, local.smtp_starttls) == ("127.0.0.1", 8025, False)
