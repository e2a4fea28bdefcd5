"""Forgotten passwords: a single-use link by email, then a new password that ends every session.

Asking for a link answers alike for known and unknown addresses, in the same words and the
same time: the same work up to the one step that writes, then a common response-time floor.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.session import release_connection
from app.domain.clock import utcnow
from app.domain.errors import InvalidEmailToken, NextStep
from app.services.accounts import find_by_email, get_account, normalise_email
from app.services.auth.sessions import AuthService
from app.services.email import links
from app.services.email.notifications import enqueue_password_changed_email
from app.services.email.rendering import EmailKind, humanise_duration, render
from app.services.email.sending import queue_email
from app.services.email.tokens import (
    NO_ACCOUNT,
    TokenPurpose,
    add_token,
    find_usable_token,
    mark_token_used,
    new_token,
    recent_issue_times,
    retire_tokens,
    send_throttle,
)
from app.services.email.verification import mark_verified


async def request_password_reset(session: AsyncSession, settings: Settings, email: str) -> None:
    """Mails a reset link when the address has an account; otherwise sends nothing.

    Takes at least `forgot_password_min_response_seconds` either way, so the one step only a
    known address takes (writing the token and the email) does not show in the timing.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _request_password_reset(session, settings, email)
    elapsed = loop.time() - started
    await asyncio.sleep(max(0.0, settings.forgot_password_min_response_seconds - elapsed))


async def _request_password_reset(session: AsyncSession, settings: Settings, email: str) -> None:
    address = normalise_email(email)
    account = await find_by_email(session, address)
    token = new_token(settings)
    earlier = await recent_issue_times(
        session, account.id if account else NO_ACCOUNT, TokenPurpose.RESET_PASSWORD
    )
    # A flood of requests for one address is dropped quietly: the answer stays the same.
    may_send = send_throttle(settings).retry_after(earlier, utcnow()) is None
    message = render(
        EmailKind.PASSWORD_RESET,
        email=address,
        link=links.reset_password_link(settings, token.secret),
        valid_for=humanise_duration(settings.password_reset_ttl_seconds),
    )
    if account is not None and may_send:
        add_token(
            session,
            account,
            TokenPurpose.RESET_PASSWORD,
            token,
            settings.password_reset_ttl_seconds,
        )
        queue_email(session, account.email, message)
    await session.commit()


async def reset_password(
    session: AsyncSession, settings: Settings, secret: str, new_password: str
) -> None:
    token = await find_usable_token(session, settings, TokenPurpose.RESET_PASSWORD, secret)
    account = await get_account(session, token.account_id)
    if token.email != account.email:
        raise InvalidEmailToken(
            "This link was sent to an address the account no longer uses.",
            reason="address_changed",
            next_step=NextStep.FORGOT_PASSWORD,
        )
    auth = AuthService(session, settings)
    await release_connection(session)  # while bcrypt runs; using the token is atomic
    password_hash = await auth.passwords.hash(new_password)
    await mark_token_used(session, token)
    account.password_hash = password_hash
    # The link reached the address, which proves it as well as a verification link would.
    mark_verified(account)
    await auth.revoke_all_sessions(account.id)
    await retire_tokens(session, account.id, TokenPurpose.RESET_PASSWORD)
    enqueue_password_changed_email(session, settings, account)
    await session.commit()
