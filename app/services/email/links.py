"""Links in emails, built from `settings.public_url` (where users reach the service)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from app.config import Settings


def _base(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def verify_email_link(settings: Settings, token: str) -> str:
    return f"{_base(settings)}/verify-email?{urlencode({'token': token})}"


def reset_password_link(settings: Settings, token: str | None = None) -> str:
    query = f"?{urlencode({'token': token})}" if token else ""
    return f"{_base(settings)}/reset-password{query}"


def job_link(settings: Settings, job_id: uuid.UUID) -> str:
    return f"{_base(settings)}/#/jobs/{job_id}"


def settings_link(settings: Settings) -> str:
    return f"{_base(settings)}/#/settings"


def webhooks_link(settings: Settings) -> str:
    return f"{_base(settings)}/#/webhooks"


def api_keys_link(settings: Settings) -> str:
    return f"{_base(settings)}/#/keys"
