"""Email tests: links under a public URL, and a mailbox on the harness's SMTP sink."""

from __future__ import annotations

import pytest

from app.config import Settings

PUBLIC_URL = "https://reframer.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "public_url": PUBLIC_URL,
            "email_from": "Reframer <no-reply@reframer.example>",
        }
    )
