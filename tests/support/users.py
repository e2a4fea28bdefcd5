"""Makes accounts the way a customer would (register, log in) and, for tests, sets plans."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.db.models import OutboxMessage
from app.domain.plans import PlanName
from app.outbox.messages import REDACTED, Destination
from app.services.accounts import find_by_email, set_plan
from app.services.email.links import token_of_link
from devstack.smtp_sink import verification_link

DEFAULT_PASSWORD = "correct horse battery staple"


@dataclass
class TestUser:
    __test__ = False

    id: uuid.UUID
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class UserFactory:
    def __init__(
        self, client: httpx.AsyncClient, app: FastAPI, mail_dir: Path | None = None
    ) -> None:
        """`mail_dir`: the SMTP sink's, for an app whose outbox relay runs (a sent email's
        row no longer holds its text, so the link is read from the delivered mail)."""
        self.client = client
        self.app = app
        self.mail_dir = mail_dir

    async def create(
        self, *, plan: PlanName = PlanName.FREE, email: str | None = None, verified: bool = True
    ) -> TestUser:
        """`verified=False` leaves the address unconfirmed, as right after registering."""
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        registered = await self.client.post(
            "/api/auth/register", json={"email": email, "password": DEFAULT_PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        if plan is not PlanName.FREE:
            await self.set_plan(email, plan)
        if verified:
            await self.verify_email(email)
        login = await self.client.post(
            "/api/auth/login", json={"email": email, "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 200, login.text
        tokens = login.json()
        return TestUser(
            id=uuid.UUID(registered.json()["id"]),
            email=email,
            password=DEFAULT_PASSWORD,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    async def set_plan(self, email: str, plan: PlanName) -> None:
        async with self.app.state.sessionmaker() as session:
            account = await find_by_email(session, email)
            assert account is not None
            await set_plan(session, account, plan)

    async def verify_email(self, email: str) -> None:
        """Opens the link of the verification email waiting in the outbox, as its owner would
        (tests/email/ relay it through SMTP first; set-up need not)."""
        verified = await self.client.post(
            "/api/auth/verify-email", json={"token": await self._verification_token(email)}
        )
        assert verified.status_code == 200, verified.text

    async def _verification_token(self, email: str) -> str:
        async with self.app.state.sessionmaker() as session:
            emails = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.destination == Destination.EMAIL.value)
                .order_by(OutboxMessage.id.desc())
            )
            newest = next(
                m.payload
                for m in emails
                if m.payload["kind"] == "verify_email" and m.payload["to"] == email
            )
        if newest["text"] == REDACTED:
            assert self.mail_dir is not None, "the relay sent the email: give the mail_dir"
            delivered = await asyncio.to_thread(verification_link, self.mail_dir, email, 10.0)
            assert delivered is not None, f"no verification email reached {email}"
            link = delivered
        else:
            link = next(word for word in newest["text"].split() if "/verify-email#" in word)
        token = token_of_link(link)
        assert token is not None, link
        return token
