"""Job-finished and webhook-disabled emails (the functions the jobs and webhooks code call),
and the per-account switch for job emails (PATCH /api/me)."""

from __future__ import annotations

import uuid
from enum import StrEnum

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.domain.ids import new_id
from app.services.accounts import get_account
from app.services.email.notifications import (
    enqueue_job_finished_email,
    enqueue_webhook_disabled_email,
)
from tests.email.conftest import PUBLIC_URL
from tests.support.mailbox import Mailbox, html_of, link_of
from tests.support.users import TestUser, UserFactory


class JobStatus(StrEnum):
    """What a job state machine hands over: an enum, not a bare string."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RUNNING = "running"


async def _job_finished(
    app: FastAPI,
    settings: Settings,
    user: TestUser,
    job_id: uuid.UUID,
    status: str | JobStatus,
    reason: str | None = None,
) -> bool:
    async with app.state.sessionmaker() as session:
        account = await get_account(session, user.id)
        message = enqueue_job_finished_email(
            session, account, job_id, status, settings=settings, reason=reason
        )
        await session.commit()
    return message is not None


async def test_job_emails_tell_success_and_failure_with_a_link(
    app: FastAPI, settings: Settings, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create()
    await mailbox.deliver()
    done, broken = new_id(), new_id()
    assert await _job_finished(app, settings, user, done, JobStatus.SUCCEEDED)
    assert await _job_finished(
        app, settings, user, broken, "failed", reason="The input has no <video> stream."
    )

    succeeded, failed = sorted(
        await mailbox.deliver(), key=lambda m: m["X-Reframer-Kind"] != "job_succeeded"
    )
    assert succeeded["To"] == failed["To"] == user.email
    assert done.hex[-8:] in succeeded["Subject"]
    assert "ready" in succeeded["Subject"]
    assert link_of(succeeded) == f"{PUBLIC_URL}/#/jobs/{done}"
    assert broken.hex[-8:] in failed["Subject"]
    assert "failed" in failed["Subject"]
    text = failed.get_body(preferencelist=("plain",)).get_content()
    assert "The input has no <video> stream." in text
    assert "The input has no &lt;video&gt; stream." in html_of(failed)
    assert f"{PUBLIC_URL}/#/settings" in text


async def test_switching_job_emails_off_stops_them(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    users: UserFactory,
    mailbox: Mailbox,
) -> None:
    user = await users.create()
    await mailbox.deliver()
    assert (await client.get("/api/me", headers=user.headers)).json()["notify_on_job_done"] is True

    off = await client.patch("/api/me", json={"notify_on_job_done": False}, headers=user.headers)
    assert off.status_code == 200
    assert off.json()["notify_on_job_done"] is False
    assert (await client.get("/api/me", headers=user.headers)).json()["notify_on_job_done"] is False
    assert not await _job_finished(app, settings, user, new_id(), JobStatus.SUCCEEDED)
    assert not await _job_finished(app, settings, user, new_id(), JobStatus.FAILED)
    assert await mailbox.deliver() == []

    unchanged = await client.patch("/api/me", json={}, headers=user.headers)
    assert unchanged.json()["notify_on_job_done"] is False
    on = await client.patch("/api/me", json={"notify_on_job_done": True}, headers=user.headers)
    assert on.json()["notify_on_job_done"] is True
    assert await _job_finished(app, settings, user, new_id(), JobStatus.SUCCEEDED)
    assert len(await mailbox.deliver()) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"notify_on_job_done": "no"},
        {"notify_on_job_done": 0},
        {"notify_on_job_done": None},
        {"email": "someone@example.com"},
    ],
)
async def test_a_bad_update_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, users: UserFactory, body: dict[str, object]
) -> None:
    user = await users.create()
    response = await client.patch("/api/me", json=body, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert [e["field"] for e in response.json()["errors"]] == list(body)
    assert (await client.get("/api/me", headers=user.headers)).json()["notify_on_job_done"] is True


async def test_updating_me_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/me", json={"notify_on_job_done": False})
    assert response.status_code == 401


async def test_only_finished_statuses_have_an_email(
    app: FastAPI, settings: Settings, users: UserFactory
) -> None:
    user = await users.create()
    with pytest.raises(ValueError, match="running"):
        await _job_finished(app, settings, user, new_id(), JobStatus.RUNNING)


async def test_a_disabled_webhook_endpoint_is_reported_to_its_owner(
    app: FastAPI,
    settings: Settings,
    users: UserFactory,
    mailbox: Mailbox,
    client: httpx.AsyncClient,
) -> None:
    user = await users.create()
    await mailbox.deliver()
    # The notice is operational: it goes out even with job emails switched off.
    await client.patch("/api/me", json={"notify_on_job_done": False}, headers=user.headers)
    url = "https://hooks.example.com/reframer?source=<x>"
    async with app.state.sessionmaker() as session:
        account = await get_account(session, user.id)
        enqueue_webhook_disabled_email(
            session, account, url, "the last 20 deliveries failed", settings=settings
        )
        await session.commit()

    email = await mailbox.deliver_one("webhook_disabled")
    assert email["To"] == user.email
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert url in text
    assert "the last 20 deliveries failed" in text
    assert f"{PUBLIC_URL}/#/webhooks" in text
    assert "https://hooks.example.com/reframer?source=&lt;x&gt;" in html_of(email)
