"""Email tests: a real SMTP server (the local sink) on a free loopback port per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.config import Settings
from app.local.smtp_sink import SmtpSink, start_smtp_sink
from tests.support.mailbox import Mailbox

PUBLIC_URL = "https://reframer.example"


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    sink = start_smtp_sink(tmp_path / "mail")
    yield sink
    sink.stop()


@pytest.fixture
def settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": smtp_sink.host,
            "smtp_port": smtp_sink.port,
            "public_url": PUBLIC_URL,
            "email_from": "Reframer <no-reply@reframer.example>",
        }
    )


@pytest.fixture
def mailbox(app: FastAPI, smtp_sink: SmtpSink) -> Mailbox:
    return Mailbox(app, smtp_sink)
