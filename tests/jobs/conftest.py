from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from devstack.provision import LocalAws
from devstack.smtp_sink import SmtpSink
from tests.support.jobs import JobDriver
from tests.support.mailbox import Mailbox


@pytest.fixture
def jobs(client: httpx.AsyncClient, app: FastAPI, aws: LocalAws, settings: Settings) -> JobDriver:
    return JobDriver(client, app, aws, settings)


@pytest.fixture
def mailbox(app: FastAPI, smtp_sink: SmtpSink) -> Mailbox:
    return Mailbox(app, smtp_sink)
