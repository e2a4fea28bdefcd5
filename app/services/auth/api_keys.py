"""API keys: shown once, stored as a keyed hash, scoped to their account and to what their
scopes allow; the owner is emailed about every new key, and an account holds a few at most."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.locking import lock_by_id
from app.db.models import Account, ApiKey
from app.domain.api_key_scopes import Scope, normalise
from app.domain.clock import utcnow
from app.domain.errors import ApiKeyLimit, InvalidToken, NotFound
from app.domain.keyring import Purpose
from app.domain.secrets import (
    api_key_display_prefix,
    api_key_is_well_formed,
    new_api_key,
)
from app.services.email.notifications import enqueue_api_key_created_email


@dataclass(frozen=True)
class CreatedApiKey:
    record: ApiKey
    secret: str


@dataclass(frozen=True)
class AuthenticatedKey:
    account: Account
    scopes: frozenset[str]


async def create_api_key(
    session: AsyncSession,
    settings: Settings,
    account: Account,
    name: str,
    scopes: list[Scope],
) -> CreatedApiKey:
    # One key minted at a time per account, counted after the lock: a burst of requests
    # counted at the same moment would all see room for one more.
    await lock_by_id(session, Account, account.id)
    active = await session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.account_id == account.id, ApiKey.revoked_at.is_(None))
    )
    if (active or 0) >= settings.api_keys_max_per_account:
        raise ApiKeyLimit(
            f"An account may hold {settings.api_keys_max_per_account} active API keys; "
            "revoke one first.",
            limit=settings.api_keys_max_per_account,
        )
    secret = new_api_key()
    record = ApiKey(
        account_id=account.id,
        name=name,
        prefix=api_key_display_prefix(secret),
        key_hash=settings.keyring.hash(Purpose.API_KEY, secret),
        scopes=normalise(scopes),
    )
    session.add(record)
    # The owner hears of every new key: a stolen session minting one does not go unseen.
    enqueue_api_key_created_email(session, settings, account, record)
    await session.commit()
    return CreatedApiKey(record=record, secret=secret)


async def list_api_keys(session: AsyncSession, account: Account) -> list[ApiKey]:
    result = await session.execute(
        select(ApiKey)
        .where(ApiKey.account_id == account.id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc())
    )
    return list(result.scalars())


async def revoke_api_key(session: AsyncSession, account: Account, key_id: uuid.UUID) -> None:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.account_id == account.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("No such API key.")
    await session.commit()


async def authenticate_api_key(
    session: AsyncSession, settings: Settings, secret: str
) -> AuthenticatedKey:
    if not api_key_is_well_formed(secret):
        raise InvalidToken("The API key is malformed.")
    result = await session.execute(
        select(ApiKey, Account)
        .join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.key_hash.in_(settings.keyring.candidate_hashes(Purpose.API_KEY, secret)))
    )
    row = result.one_or_none()
    if row is None or row.ApiKey.revoked_at is not None:
        raise InvalidToken("The API key is unknown or revoked.")
    key: ApiKey = row.ApiKey
    account: Account = row.Account
    now = utcnow()
    current_hash = settings.keyring.hash(Purpose.API_KEY, secret)
    # Stored under an older key (a rotation of `secret_key` under way): stored again under
    # the current one, so the key outlives the old secret once used during the overlap.
    if key.key_hash != current_hash:
        key.key_hash = current_hash
        key.last_used_at = now
        await session.commit()
    # Coarse last-used stamp: one write a minute per key at most, not one per request.
    elif key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        key.last_used_at = now
        await session.commit()
    return AuthenticatedKey(account=account, scopes=frozenset(key.scopes))
