"""Forgot -> email -> reset -> old sessions refused, over HTTP with a real SMTP server;
and forgot-password tells nobody whether an address has an account."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from app.config import Settings
from app.db.models import EmailToken, OutboxMessage
from app.domain.clock import utcnow
from tests.email.conftest import PUBLIC_URL
from tests.support.mailbox import Mailbox, link_of, token_of
from tests.support.users import UserFactory

NEW_PASSWORD = "a brand new passphrase"


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def _outbox_size(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def _comparable(response: httpx.Response) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
    """Everything a caller sees, less the request id (different on every request)."""
    headers = tuple(sorted((k, v) for k, v in response.headers.items() if k != "x-request-id"))
    return response.status_code, response.content, headers


async def test_forgot_then_reset_sets_the_password_and_ends_every_session(
    client: httpx.AsyncClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create(verified=False)
    other_session = (await _login(client, user.email, user.password)).json()["refresh_token"]
    await mailbox.deliver()  # the registration's verification email

    forgot = await client.post("/api/auth/forgot-password", json={"email": user.email.upper()})
    assert forgot.status_code == 202
    email = await mailbox.deliver_one("password_reset")
    assert email["To"] == user.email
    assert link_of(email).startswith(f"{PUBLIC_URL}/reset-password#token=")
    assert "1 hour" in email.get_body(preferencelist=("plain",)).get_content()
    page = await client.get(link_of(email).removeprefix(PUBLIC_URL))
    assert page.status_code == 200

    reset = await client.post(
        "/api/auth/reset-password", json={"token": token_of(email), "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 204

    for refresh_token in (user.refresh_token, other_session):
        refused = await client.post("/api/auth/refresh", json={"refresh_token": refresh_token})
        assert refused.status_code == 401
    assert (await _login(client, user.email, user.password)).status_code == 401
    fresh = await _login(client, user.email, NEW_PASSWORD)
    assert fresh.status_code == 200
    me = await client.get(
        "/api/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}
    )
    # The reset link reached the address: that proves it as well.
    assert me.json()["email_verified"] is True

    notice = await mailbox.deliver_one("password_changed")
    assert notice["To"] == user.email

    replay = await client.post(
        "/api/auth/reset-password",
        json={"token": token_of(email), "new_password": "yet another one"},
    )
    assert replay.status_code == 400
    assert replay.json()["code"] == "invalid_email_token"
    assert replay.json()["reason"] == "used"
    assert (await _login(client, user.email, NEW_PASSWORD)).status_code == 200


async def test_an_unknown_address_gets_the_same_answer_and_no_email(
    client: httpx.AsyncClient, app: FastAPI, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create()
    await mailbox.deliver()
    before = await _outbox_size(app)

    unknown = await client.post("/api/auth/forgot-password", json={"email": "nobody@example.com"})
    assert await _outbox_size(app) == before
    assert await mailbox.deliver() == []

    known = await client.post("/api/auth/forgot-password", json={"email": user.email})
    assert _comparable(unknown) == _comparable(known)
    assert known.status_code == 202
    [email] = await mailbox.deliver()
    assert email["To"] == user.email
    assert all("nobody" not in str(m["To"]) for m in mailbox.sink.messages())


async def test_known_and_unknown_addresses_both_wait_for_the_response_floor(
    client: httpx.AsyncClient, settings: Settings, users: UserFactory
) -> None:
    user = await users.create()
    floor = settings.forgot_password_min_response_seconds
    assert floor > 0
    for address in (user.email, "nobody@example.com"):
        started = time.perf_counter()
        response = await client.post("/api/auth/forgot-password", json={"email": address})
        assert response.status_code == 202
        assert time.perf_counter() - started >= floor


async def test_a_burst_of_requests_sends_one_email_and_answers_alike(
    client: httpx.AsyncClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create()
    await mailbox.deliver()
    answers = [
        await client.post("/api/auth/forgot-password", json={"email": user.email}) for _ in range(3)
    ]
    assert len({_comparable(a) for a in answers}) == 1
    emails = await mailbox.deliver()
    assert [m["X-Reframer-Kind"] for m in emails] == ["password_reset"]


async def test_an_expired_or_unknown_reset_token_is_refused(
    client: httpx.AsyncClient, app: FastAPI, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create()
    await client.post("/api/auth/forgot-password", json={"email": user.email})
    email = await mailbox.deliver_one("password_reset")
    async with app.state.sessionmaker() as session:
        await session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()

    for token, reason in ((token_of(email), "expired"), ("never-issued", "unknown")):
        response = await client.post(
            "/api/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 400
        assert response.json()["reason"] == reason
        assert "/api/auth/forgot-password" in response.json()["detail"]
    assert (await _login(client, user.email, user.password)).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"token": "t", "new_password": "short"}, "new_password"),
        ({"token": "t", "new_password": "x" * 1025}, "new_password"),
        ({"new_password": NEW_PASSWORD}, "token"),
    ],
)
async def test_a_bad_reset_request_names_the_field(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    response = await client.post("/api/auth/reset-password", json=body)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_forgot_password_needs_an_email_address(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/forgot-password", json={"email": "not an address"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["email"]


async def test_changing_the_password_mails_a_notice(
    client: httpx.AsyncClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create()
    await mailbox.deliver()
    changed = await client.post(
        "/api/me/password",
        json={"current_password": user.password, "new_password": NEW_PASSWORD},
        headers=user.headers,
    )
    assert changed.status_code == 204
    notice = await mailbox.deliver_one("password_changed")
    assert notice["To"] == user.email
    assert "was changed" in notice["Subject"]
    assert link_of(notice) == f"{PUBLIC_URL}/reset-password"
