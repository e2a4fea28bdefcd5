"""Email tests: links under a public URL, and a mailbox on the harness's SMTP sink."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from app.config import Settings
from devstack.smtp_sink import SmtpSink
from tests.support.mailbox import Mailbox

PUBLIC_URL = "https://reframer.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "public_url": PUBLIC_URL,
            "email_from": "Reframer <no-reply@reframer.example>",
        }
    )


@pytest.fixture
def mailbox(app: FastAPI, smtp_sink: SmtpSink) -> Mailbox:
    return Mailbox(app, smtp_sink)
