"""The sweeper deletes emailed links and refresh tokens once they open nothing and the margin
has passed; a token that still works, or still detects reuse, stays."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select

from app.config import Settings
from app.db.models import EmailToken, RefreshToken
from app.domain.clock import utcnow
from tests.support.users import UserFactory


async def _email_token_purposes(app: FastAPI) -> list[str]:
    async with app.state.sessionmaker() as session:
        return sorted((await session.scalars(select(EmailToken.purpose))).all())


async def _refresh_token_count(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return len((await session.scalars(select(RefreshToken.id))).all())


async def test_emailed_links_go_once_expired_for_the_retention(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, users: UserFactory
) -> None:
    issued = utcnow()
    user = await users.create(verified=False)  # registering mailed a verification link
    forgot = await client.post("/api/auth/forgot-password", json={"email": user.email})
    assert forgot.status_code == 202
    assert await _email_token_purposes(app) == ["reset_password", "verify_email"]
    sweeper = app.state.job_sweeper
    margin = timedelta(days=settings.email_token_retention_days)
    reset_expiry = timedelta(seconds=settings.password_reset_ttl_seconds)
    verify_expiry = timedelta(seconds=settings.email_verification_ttl_seconds)

    soon = await sweeper.sweep_once(now=issued + reset_expiry + margin - timedelta(minutes=5))
    assert soon.deleted_email_tokens == 0
    later = await sweeper.sweep_once(now=issued + reset_expiry + margin + timedelta(minutes=5))
    assert later.deleted_email_tokens == 1
    assert await _email_token_purposes(app) == ["verify_email"]  # its day has not ended
    last = await sweeper.sweep_once(now=issued + verify_expiry + margin + timedelta(minutes=5))
    assert last.deleted_email_tokens == 1
    assert await _email_token_purposes(app) == []


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": token})


async def test_revoked_refresh_tokens_go_and_rotated_ones_stay_to_catch_reuse(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, users: UserFactory
) -> None:
    user = await users.create()
    rotated = await _refresh(client, user.refresh_token)
    assert rotated.status_code == 200
    current = rotated.json()["refresh_token"]
    other_session = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    logout = {"refresh_token": other_session.json()["refresh_token"]}
    assert (await client.post("/api/auth/logout", json=logout)).status_code == 204
    assert await _refresh_token_count(app) == 3
    sweeper = app.state.job_sweeper
    margin = timedelta(days=settings.refresh_token_retention_days)

    swept = await sweeper.sweep_once(now=utcnow() + margin + timedelta(hours=1))
    assert swept.deleted_refresh_tokens == 1  # the logged-out session's
    assert await _refresh_token_count(app) == 2
    # The rotated token is still known: replaying it ends the session it was stolen from.
    assert (await _refresh(client, user.refresh_token)).status_code == 401
    assert (await _refresh(client, current)).status_code == 401

    ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
    expired = await sweeper.sweep_once(now=utcnow() + ttl + margin + timedelta(hours=1))
    assert expired.deleted_refresh_tokens == 2
    assert await _refresh_token_count(app) == 0


def test_stripe_event_ids_are_kept_well_past_stripes_three_days_of_retries() -> None:
    with pytest.raises(ValidationError, match="stripe_event_retention_days"):
        Settings(_env_file=None, stripe_event_retention_days=3)  # type: ignore[call-arg]
