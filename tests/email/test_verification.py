"""Register -> email -> verify, over HTTP with a real SMTP server; resend and its limit."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.api.errors import status_of
from app.config import Settings
from app.db.models import EmailToken
from app.domain.clock import utcnow
from app.domain.errors import EmailUnverified, NextStep
from app.services.accounts import get_account
from app.services.email.verification import ensure_email_verified
from tests.email.conftest import PUBLIC_URL
from tests.support.mailbox import Mailbox, html_of, link_of, token_of
from tests.support.users import DEFAULT_PASSWORD, UserFactory


async def _shift_tokens(app: FastAPI, **changes: object) -> None:
    """Moves the clock for tokens already issued (created_at or expires_at into the past)."""
    async with app.state.sessionmaker() as session:
        await session.execute(update(EmailToken).values(**changes))
        await session.commit()


async def test_register_mails_a_link_that_verifies_the_address_once(
    client: httpx.AsyncClient, mailbox: Mailbox, settings: Settings
) -> None:
    registered = await client.post(
        "/api/auth/register", json={"email": "Ada@Example.com", "password": DEFAULT_PASSWORD}
    )
    assert registered.status_code == 201
    assert registered.json()["email_verified"] is False

    email = await mailbox.deliver_one("verify_email")
    assert email["To"] == "ada@example.com"
    assert email["From"] == settings.email_from
    assert "Confirm your email address" in email["Subject"]
    link = link_of(email)
    assert link.startswith(f"{PUBLIC_URL}/verify-email#token=")
    assert f'href="{link}"' in html_of(email)
    assert "24 hours" in email.get_body(preferencelist=("plain",)).get_content()

    # Opening the page does not spend the token: mail scanners follow links too.
    page = await client.get(link.removeprefix(PUBLIC_URL))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"

    # An unverified account can sign in and look around.
    login = await client.post(
        "/api/auth/login", json={"email": "ada@example.com", "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/me", headers=headers)).json()["email_verified"] is False

    verified = await client.post("/api/auth/verify-email", json={"token": token_of(email)})
    assert verified.status_code == 200
    assert verified.json()["email"] == "ada@example.com"
    assert verified.json()["email_verified"] is True
    assert (await client.get("/api/me", headers=headers)).json()["email_verified"] is True

    again = await client.post("/api/auth/verify-email", json={"token": token_of(email)})
    assert again.status_code == 400
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "invalid_email_token"
    assert again.json()["reason"] == "used"


@pytest.mark.parametrize("token", ["not-a-token", "x" * 512])
async def test_an_unknown_token_is_a_400_problem(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post("/api/auth/verify-email", json={"token": token})
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid_email_token"
    assert problem["reason"] == "unknown"
    assert "/api/auth/resend-verification" in problem["detail"]


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "x" * 513}, {"token": 5}])
async def test_a_malformed_request_is_a_422(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/api/auth/verify-email", json=body)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["token"]


async def test_an_expired_link_is_refused_and_a_new_one_works(
    client: httpx.AsyncClient, app: FastAPI, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create(verified=False)
    first = await mailbox.deliver_one("verify_email")
    # A day and a minute later: the link has expired and the resend cooldown is long over.
    await _shift_tokens(
        app,
        created_at=utcnow() - timedelta(hours=24, minutes=1),
        expires_at=utcnow() - timedelta(minutes=1),
    )
    expired = await client.post("/api/auth/verify-email", json={"token": token_of(first)})
    assert expired.status_code == 400
    assert expired.json()["reason"] == "expired"

    resent = await client.post("/api/auth/resend-verification", headers=user.headers)
    assert resent.status_code == 202
    second = await mailbox.deliver_one("verify_email")
    assert token_of(second) != token_of(first)
    ok = await client.post("/api/auth/verify-email", json={"token": token_of(second)})
    assert ok.status_code == 200


async def test_resending_is_rate_limited_then_refused_once_verified(
    client: httpx.AsyncClient, app: FastAPI, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create(verified=False)
    first = await mailbox.deliver_one("verify_email")

    # The registration email went out a moment ago: too soon for another.
    limited = await client.post("/api/auth/resend-verification", headers=user.headers)
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    problem = limited.json()
    assert problem["code"] == "rate_limited"
    assert 55 <= problem["retry_after"] <= 60
    assert limited.headers["retry-after"] == str(problem["retry_after"])
    assert await mailbox.deliver() == []

    await _shift_tokens(app, created_at=utcnow() - timedelta(seconds=61))
    resent = await client.post("/api/auth/resend-verification", headers=user.headers)
    assert resent.status_code == 202
    assert user.email in resent.json()["detail"]
    second = await mailbox.deliver_one("verify_email")

    # Either link proves the address; once one is used, the others retire.
    ok = await client.post("/api/auth/verify-email", json={"token": token_of(first)})
    assert ok.status_code == 200
    retired = await client.post("/api/auth/verify-email", json={"token": token_of(second)})
    assert retired.status_code == 400

    done = await client.post("/api/auth/resend-verification", headers=user.headers)
    assert done.status_code == 409
    assert done.json()["code"] == "email_already_verified"


async def test_resending_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/resend-verification")
    assert response.status_code == 401


async def test_ensure_email_verified_refuses_until_the_link_is_opened(
    client: httpx.AsyncClient, app: FastAPI, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create(verified=False)
    async with app.state.sessionmaker() as session:
        account = await get_account(session, user.id)
        with pytest.raises(EmailUnverified) as refused:
            ensure_email_verified(account)
    assert status_of(refused.value) == 403
    assert refused.value.code == "email_unverified"
    assert user.email in refused.value.detail
    assert refused.value.next_step is NextStep.RESEND_VERIFICATION

    email = await mailbox.deliver_one("verify_email")
    await client.post("/api/auth/verify-email", json={"token": token_of(email)})
    async with app.state.sessionmaker() as session:
        ensure_email_verified(await get_account(session, user.id))
