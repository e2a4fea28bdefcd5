"""Webhook tests run a short retry schedule and a low auto-disable threshold, so a whole
delivery life (retries, exhaustion, disabling) fits in a few seconds."""

from __future__ import annotations

import pytest

from app.config import Settings

TEST_RETRY_SCHEDULE = [1, 1]
TEST_DISABLE_AFTER = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_retry_schedule_seconds": TEST_RETRY_SCHEDULE,
            "webhook_disable_after_consecutive_failures": TEST_DISABLE_AFTER,
        }
    )
