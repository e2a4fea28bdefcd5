"""A typo at sign-up: the unconfirmed address is corrected, the new one gets the link, the
old link stops working; a confirmed address cannot be changed this way."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from app.db.models import EmailToken
from app.domain.clock import utcnow
from tests.support.mailbox import Mailbox, token_of
from tests.support.users import UserFactory


async def _age_tokens(app: FastAPI, seconds: int) -> None:
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(EmailToken).values(created_at=utcnow() - timedelta(seconds=seconds))
        )
        await session.commit()


async def test_an_unconfirmed_address_is_corrected_and_the_new_one_verifies(
    client: httpx.AsyncClient, app: FastAPI, users: UserFactory, mailbox: Mailbox
) -> None:
    taken = await users.create()
    await mailbox.deliver()
    user = await users.create(verified=False)
    typo = await mailbox.deliver_one("verify_email")

    # The sign-up email went out a moment ago: the same cooldown as a resend.
    too_soon = await client.put(
        "/api/me/email", json={"email": "new@example.com"}, headers=user.headers
    )
    assert too_soon.status_code == 429
    assert too_soon.json()["retry_after"] > 0
    await _age_tokens(app, 61)

    clash = await client.put("/api/me/email", json={"email": taken.email}, headers=user.headers)
    assert clash.status_code == 409
    assert clash.json()["code"] == "email_taken"
    bad = await client.put("/api/me/email", json={"email": "not an address"}, headers=user.headers)
    assert bad.status_code == 422

    changed = await client.put(
        "/api/me/email", json={"email": " Fixed@Example.com "}, headers=user.headers
    )
    assert changed.status_code == 200
    assert changed.json()["email"] == "fixed@example.com"
    assert changed.json()["email_verified"] is False
    fresh = await mailbox.deliver_one("verify_email")
    assert fresh["To"] == "fixed@example.com"

    old = await client.post("/api/auth/verify-email", json={"token": token_of(typo)})
    assert old.status_code == 400
    new = await client.post("/api/auth/verify-email", json={"token": token_of(fresh)})
    assert new.status_code == 200
    assert new.json()["email"] == "fixed@example.com"

    confirmed = await client.put(
        "/api/me/email", json={"email": "other@example.com"}, headers=user.headers
    )
    assert confirmed.status_code == 409
    assert confirmed.json()["code"] == "email_already_verified"
    me = (await client.get("/api/me", headers=user.headers)).json()
    assert me["email"] == "fixed@example.com"
