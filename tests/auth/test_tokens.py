"""Every malformed, expired, tampered or unsigned credential is a 401 problem, never a 500."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import httpx
import pytest
from jose import jwt

from app.config import Settings
from app.services.auth.access_tokens import AUDIENCE, ISSUER
from tests.support.users import UserFactory


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(sub: str, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, **overrides}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not.a.jwt",
        "Bearer " + "A" * 5000,
        "Bearer rk_live_short",
        "Bearer rk_live_" + "a" * 38,
    ],
)
async def test_garbage_credentials_are_401(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = await client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_expired_tampered_and_unsigned_tokens_are_refused(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    user = await users.create()
    sub = str(user.id)
    expired = jwt.encode(_claims(sub, exp=int(time.time()) - 10), settings.jwt_secret, "HS256")
    wrong_key = jwt.encode(_claims(sub), "another-secret", "HS256")
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(sub))}."
    header, _payload, signature = user.access_token.split(".")
    tampered = f"{header}.{_b64(_claims('00000000-0000-0000-0000-000000000000'))}.{signature}"
    wrong_audience = jwt.encode(_claims(sub, aud="someone-else"), settings.jwt_secret, "HS256")
    for token in (expired, wrong_key, alg_none, tampered, wrong_audience):
        response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["code"] == "invalid_token"
    good = await client.get("/api/me", headers=user.headers)
    assert good.status_code == 200


async def test_a_token_that_was_accepted_is_refused_once_it_expires(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """Verified tokens are remembered (services/auth/access_tokens.py): never past their expiry."""
    user = await users.create()
    token = jwt.encode(
        _claims(str(user.id), exp=int(time.time()) + 2), settings.jwt_secret, "HS256"
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    await asyncio.sleep(3.1)
    refused = await client.get("/api/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"


async def test_a_token_issued_before_tokens_named_the_plan_still_works(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """Tokens minted by the previous release have no `plan` claim: the account is loaded."""
    user = await users.create()
    token = jwt.encode(_claims(str(user.id)), settings.jwt_secret, "HS256")
    headers = {"Authorization": f"Bearer {token}"}
    listed = await client.get("/api/jobs", headers=headers)
    assert listed.status_code == 200
    assert (await client.get("/api/me", headers=headers)).json()["email"] == user.email
