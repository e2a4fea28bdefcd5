"""Saved responses of idempotent requests: stored with a fingerprint of the request, found
again for a retry (a different request under the same key is refused with
`idempotency_key_reused`). Keys live at least 24 hours (then the sweeper drops them).
The API decides what to save and when to replay it (app/api/idempotency.py).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import IdempotencyKey
from app.domain.clock import utcnow
from app.domain.errors import IdempotencyKeyReused


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class SavedResponse:
    status: int
    body: dict[str, Any]


def fingerprint(operation: str, request: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"operation": operation, "request": request}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def find_saved(
    session: AsyncSession, account_id: uuid.UUID, request: IdempotentRequest
) -> SavedResponse | None:
    """The saved response for this key, None for a fresh (or expired) key."""
    row = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.account_id == account_id, IdempotencyKey.key == request.key
        )
    )
    if row is None:
        return None
    if row.expires_at <= utcnow():
        await session.delete(row)
        await session.flush()
        return None
    if row.request_hash != request.fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was sent with a different request; use a new key.",
            idempotency_key=request.key,
        )
    return SavedResponse(status=row.response_status, body=row.response_body)


def save_response(
    session: AsyncSession,
    account_id: uuid.UUID,
    request: IdempotentRequest,
    status: int,
    body: dict[str, Any],
    ttl_seconds: int,
) -> None:
    """Adds the saved response to the caller's transaction: it commits with the work it records."""
    now = utcnow()
    session.add(
        IdempotencyKey(
            account_id=account_id,
            key=request.key,
            request_hash=request.fingerprint,
            response_status=status,
            response_body=body,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
