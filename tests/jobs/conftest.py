from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.local.provision import LocalAws
from tests.support.jobs import JobDriver


@pytest.fixture
def jobs(client: httpx.AsyncClient, app: FastAPI, aws: LocalAws, settings: Settings) -> JobDriver:
    return JobDriver(client, app, aws, settings)
