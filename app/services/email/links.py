"""Links in emails, built from `settings.public_url` (where users reach the service).

A link's token travels in the URL fragment (`#token=...`), which browsers never send: no
access log (uvicorn's, the load balancer's, a proxy's) records it. The page reads it.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

from app.config import Settings


def _base(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def verify_email_link(settings: Settings, token: str) -> str:
    return f"{_base(settings)}/verify-email#{urlencode({'token': token})}"


def reset_password_link(settings: Settings, token: str | None = None) -> str:
    fragment = f"#{urlencode({'token': token})}" if token else ""
    return f"{_base(settings)}/reset-password{fragment}"


def token_of_link(link: str) -> str | None:
    """The token an emailed link carries: in its fragment, or its query in links sent before."""
    parts = urlsplit(link)
    for part in (parts.fragment, parts.query):
        found = parse_qs(part).get("token")
        if found:
            return found[0]
    return None


def job_link(settings: Settings, job_id: uuid.UUID) -> str:
    return f"{_base(settings)}/#/jobs/{job_id}"


def settings_link(settings: Settings) -> str:
    return f"{_base(settings)}/#/settings"


def webhooks_link(settings: Settings) -> str:
    return f"{_base(settings)}/#/webhooks"


def api_keys_link(settings: Settings) -> str:
    return f"{_base(settings)}/#/keys"
