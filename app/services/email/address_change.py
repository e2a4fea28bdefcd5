"""Correcting the address of an account that has not confirmed it yet (a typo at sign-up).

Only before verification: a confirmed address is how the owner recovers the account, so
changing it would need the password and a link to both addresses, which this does not do.
The new address gets a fresh link; links sent to the old one stop working.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Account
from app.domain.clock import utcnow
from app.domain.errors import EmailAlreadyVerified, EmailTaken, RateLimited
from app.services.accounts import find_by_email, normalise_email
from app.services.email.tokens import (
    TokenPurpose,
    recent_issue_times,
    retire_tokens,
    send_throttle,
)
from app.services.email.verification import queue_verification_email


async def change_unverified_email(
    session: AsyncSession, settings: Settings, account: Account, new_email: str
) -> Account:
    if account.email_verified:
        raise EmailAlreadyVerified(
            f"{account.email} is confirmed; a confirmed address cannot be changed here."
        )
    email = normalise_email(new_email)
    if email == account.email:
        return account
    if await find_by_email(session, email) is not None:
        raise EmailTaken()
    # Each change sends a link: the same cooldown as asking for one again.
    earlier = await recent_issue_times(session, account.id, TokenPurpose.VERIFY_EMAIL)
    retry_after = send_throttle(settings).retry_after(earlier, utcnow())
    if retry_after is not None:
        raise RateLimited(
            f"A link went out moments ago; change the address again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    await retire_tokens(session, account.id, TokenPurpose.VERIFY_EMAIL)
    account.email = email
    try:
        await session.flush()
        queue_verification_email(session, settings, account)
        await session.commit()
    except IntegrityError as exc:  # another account took the address meanwhile
        await session.rollback()
        raise EmailTaken() from exc
    return account
