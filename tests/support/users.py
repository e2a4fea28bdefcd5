"""Makes accounts the way a customer would (register, log in) and, for tests, sets plans."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from app.domain.plans import PlanName
from app.services.accounts import find_by_email, set_plan
from app.services.email.verification import mark_email_verified

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
    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.app = app

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
        """Stands in for opening the emailed link (tests/email/ go through the real one)."""
        async with self.app.state.sessionmaker() as session:
            account = await find_by_email(session, email)
            assert account is not None
            await mark_email_verified(session, account)
