"""Proving the account's email address: the link sent at registration, resending it, and
the check that guards what an unverified account may not do yet (confirming jobs)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Account
from app.domain.clock import utcnow
from app.domain.errors import (
    EmailAlreadyVerified,
    EmailUnverified,
    InvalidEmailToken,
    NextStep,
    RateLimited,
)
from app.services.accounts import get_account
from app.services.email import links
from app.services.email.rendering import EmailKind, humanise_duration, render
from app.services.email.sending import queue_email
from app.services.email.tokens import (
    TokenPurpose,
    add_token,
    consume_token,
    new_token,
    recent_issue_times,
    retire_tokens,
    send_throttle,
)


def ensure_email_verified(account: Account) -> None:
    """Raises `EmailUnverified` (403) until the account has opened its verification link."""
    if account.email_verified:
        return
    raise unverified_error(account.email)


def unverified_error(email: str) -> EmailUnverified:
    return EmailUnverified(
        f"Confirm {email} before uploading or starting jobs: open the link in the email we "
        "sent to it.",
        next_step=NextStep.RESEND_VERIFICATION,
    )


def queue_verification_email(session: AsyncSession, settings: Settings, account: Account) -> None:
    """Adds a fresh token and its email to the caller's transaction (which must know the id)."""
    token = new_token(settings)
    add_token(
        session, account, TokenPurpose.VERIFY_EMAIL, token, settings.email_verification_ttl_seconds
    )
    queue_email(
        session,
        account.email,
        render(
            EmailKind.VERIFY_EMAIL,
            email=account.email,
            link=links.verify_email_link(settings, token.secret),
            valid_for=humanise_duration(settings.email_verification_ttl_seconds),
        ),
    )


async def resend_verification(session: AsyncSession, settings: Settings, account: Account) -> None:
    if account.email_verified:
        raise EmailAlreadyVerified(f"{account.email} is already confirmed; nothing to do.")
    earlier = await recent_issue_times(session, account.id, TokenPurpose.VERIFY_EMAIL)
    retry_after = send_throttle(settings).retry_after(earlier, utcnow())
    if retry_after is not None:
        raise RateLimited(
            f"Verification emails go out at most once every "
            f"{settings.email_resend_cooldown_seconds} seconds and "
            f"{settings.email_resend_max_per_hour} times an hour. Check your inbox and spam "
            f"folder for the last one, or ask again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    queue_verification_email(session, settings, account)
    await session.commit()


async def verify_email(session: AsyncSession, settings: Settings, secret: str) -> Account:
    token = await consume_token(session, settings, TokenPurpose.VERIFY_EMAIL, secret)
    account = await get_account(session, token.account_id)
    if token.email != account.email:
        raise InvalidEmailToken(
            "This link was sent to an address the account no longer uses.",
            next_step=NextStep.RESEND_VERIFICATION,
            reason="address_changed",
        )
    mark_verified(account)
    # Older links sent to the same address have done their job.
    await retire_tokens(session, account.id, TokenPurpose.VERIFY_EMAIL)
    await session.commit()
    return account


def mark_verified(account: Account) -> None:
    """Opening a link mailed to the address proves it; the first proof's time is kept."""
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
