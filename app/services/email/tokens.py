"""Single-use tokens sent by email: random, stored as keyed hashes, with an expiry.

Consuming one is a conditional update, so of two concurrent uses exactly one wins.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Account, EmailToken
from app.domain.clock import utcnow
from app.domain.email_throttle import WINDOW, SendThrottle
from app.domain.errors import InvalidEmailToken, NextStep
from app.domain.keyring import Purpose
from app.domain.secrets import new_opaque_token

# Stands in for "no account" where the same query must run either way (no timing oracle).
NO_ACCOUNT = uuid.UUID(int=0)


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a secret


# How to get a new link once one is refused.
ASK_AGAIN = {
    TokenPurpose.VERIFY_EMAIL: NextStep.RESEND_VERIFICATION,
    TokenPurpose.RESET_PASSWORD: NextStep.FORGOT_PASSWORD,
}


@dataclass(frozen=True)
class NewToken:
    secret: str
    token_hash: str


def new_token(settings: Settings) -> NewToken:
    secret = new_opaque_token()
    return NewToken(secret=secret, token_hash=settings.keyring.hash(Purpose.EMAIL_TOKEN, secret))


def add_token(
    session: AsyncSession, account: Account, purpose: TokenPurpose, token: NewToken, ttl: int
) -> EmailToken:
    now = utcnow()
    row = EmailToken(
        account_id=account.id,
        purpose=purpose.value,
        email=account.email,
        token_hash=token.token_hash,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    session.add(row)
    return row


def send_throttle(settings: Settings) -> SendThrottle:
    return SendThrottle(
        cooldown=timedelta(seconds=settings.email_resend_cooldown_seconds),
        max_per_window=settings.email_resend_max_per_hour,
    )


async def recent_issue_times(
    session: AsyncSession, account_id: uuid.UUID, purpose: TokenPurpose
) -> list[datetime]:
    result = await session.execute(
        select(EmailToken.created_at).where(
            EmailToken.account_id == account_id,
            EmailToken.purpose == purpose.value,
            EmailToken.created_at > utcnow() - WINDOW,
        )
    )
    return list(result.scalars())


async def find_usable_token(
    session: AsyncSession, settings: Settings, purpose: TokenPurpose, secret: str
) -> EmailToken:
    """The token if it is known, unused and unexpired; a refusal names how to get a new one."""
    result = await session.execute(
        select(EmailToken).where(
            EmailToken.token_hash.in_(
                settings.keyring.candidate_hashes(Purpose.EMAIL_TOKEN, secret)
            ),
            EmailToken.purpose == purpose.value,
        )
    )
    row = result.scalar_one_or_none()
    if row is None:
        raise InvalidEmailToken(
            "This link is not valid.", reason="unknown", next_step=ASK_AGAIN[purpose]
        )
    if row.used_at is not None:
        raise InvalidEmailToken(
            "This link was already used.", reason="used", next_step=ASK_AGAIN[purpose]
        )
    if row.expires_at <= utcnow():
        raise InvalidEmailToken(
            "This link has expired.", reason="expired", next_step=ASK_AGAIN[purpose]
        )
    return row


async def mark_token_used(session: AsyncSession, token: EmailToken) -> None:
    """Of two concurrent uses of one token, the second fails here."""
    used = await session.execute(
        update(EmailToken)
        .where(EmailToken.id == token.id, EmailToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidEmailToken(
            "This link was already used.",
            reason="used",
            next_step=ASK_AGAIN[TokenPurpose(token.purpose)],
        )


async def consume_token(
    session: AsyncSession, settings: Settings, purpose: TokenPurpose, secret: str
) -> EmailToken:
    token = await find_usable_token(session, settings, purpose, secret)
    await mark_token_used(session, token)
    return token


async def retire_tokens(
    session: AsyncSession, account_id: uuid.UUID, purpose: TokenPurpose
) -> None:
    """Every other outstanding token of that purpose stops working (its job is done)."""
    await session.execute(
        update(EmailToken)
        .where(
            EmailToken.account_id == account_id,
            EmailToken.purpose == purpose.value,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
