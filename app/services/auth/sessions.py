"""Registration, login, refresh-token rotation with reuse detection, logout, password change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Account, RefreshToken
from app.db.session import release_connection
from app.domain.clock import utcnow
from app.domain.errors import EmailTaken, InvalidCredentials, InvalidToken
from app.domain.ids import new_id
from app.domain.keyring import Purpose
from app.domain.secrets import new_opaque_token
from app.services.accounts import find_by_email, normalise_email
from app.services.auth.access_tokens import issue_access_token
from app.services.auth.passwords import PasswordHasher
from app.services.email.notifications import enqueue_password_changed_email
from app.services.email.verification import queue_verification_email


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


class AuthService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.passwords = PasswordHasher(settings.bcrypt_rounds)

    async def register(self, email: str, password: str) -> Account:
        email = normalise_email(email)
        if await find_by_email(self.session, email) is not None:
            raise EmailTaken()
        await release_connection(self.session)  # the unique index still settles a race
        account = Account(email=email, password_hash=await self.passwords.hash(password))
        self.session.add(account)
        try:
            await self.session.flush()  # the verification token needs the account's id
            queue_verification_email(self.session, self.settings, account)
            await self.session.commit()
        except IntegrityError as exc:  # a concurrent registration won the race
            await self.session.rollback()
            raise EmailTaken() from exc
        return account

    async def login(self, email: str, password: str) -> TokenPair:
        account = await find_by_email(self.session, email)
        # No pooled connection waits on bcrypt, or a login storm starves every other request.
        await release_connection(self.session)
        # An unknown email still costs one bcrypt verify: timing does not tell who exists.
        ok = await self.passwords.verify(password, account.password_hash if account else None)
        if account is None or not ok:
            raise InvalidCredentials()
        pair = self._issue(account, family_id=new_id())
        await self.session.commit()
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        row = await self._find_refresh(refresh_token)
        now = utcnow()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise InvalidToken("The refresh token is not valid; log in again.")
        # A conditional update makes rotation atomic: of two concurrent uses, one wins; and a
        # revocation (password reset, log out everywhere) committed since the read above wins
        # over both, since the update re-checks the row it waited for.
        rotated = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == row.id,
                RefreshToken.rotated_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(rotated_at=now)
        )
        if rotated.rowcount != 1:  # type: ignore[attr-defined]
            await self._revoke_family(row.family_id)
            await self.session.commit()
            raise InvalidToken(
                "This refresh token was already used or has just been revoked; every session "
                "it began is ended."
            )
        account = await self.session.get(Account, row.account_id)
        if account is None:
            raise InvalidToken("The account behind this refresh token no longer exists.")
        pair = self._issue(account, family_id=row.family_id)
        await self.session.commit()
        return pair

    async def logout(self, refresh_token: str) -> None:
        """Ends the session the token belongs to; an unknown token is not an error."""
        row = await self._find_refresh(refresh_token)
        if row is not None:
            await self._revoke_family(row.family_id)
            await self.session.commit()

    async def change_password(self, account: Account, current: str, new: str) -> None:
        await release_connection(self.session)  # while bcrypt runs, twice
        if not await self.passwords.verify(current, account.password_hash):
            raise InvalidCredentials("The current password is wrong.")
        account.password_hash = await self.passwords.hash(new)
        await self.revoke_all_sessions(account.id)
        enqueue_password_changed_email(self.session, self.settings, account)
        await self.session.commit()

    async def log_out_everywhere(self, account: Account) -> None:
        await self.revoke_all_sessions(account.id)
        await self.session.commit()

    async def revoke_all_sessions(self, account_id: uuid.UUID) -> None:
        """Ends every session: refresh tokens revoked, access tokens refused from now on."""
        await self.session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(session_version=Account.session_version + 1)
        )
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    def _issue(self, account: Account, family_id: uuid.UUID) -> TokenPair:
        refresh = new_opaque_token()
        now = utcnow()
        self.session.add(
            RefreshToken(
                account_id=account.id,
                family_id=family_id,
                token_hash=self.settings.keyring.hash(Purpose.REFRESH_TOKEN, refresh),
                created_at=now,
                expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl_seconds),
            )
        )
        return TokenPair(
            access_token=issue_access_token(
                self.settings, account.id, account.plan, account.session_version
            ),
            refresh_token=refresh,
            expires_in=self.settings.access_token_ttl_seconds,
        )

    async def _find_refresh(self, token: str) -> RefreshToken | None:
        # Under every key of the ring: a rotation of `secret_key` ends no session.
        hashes = self.settings.keyring.candidate_hashes(Purpose.REFRESH_TOKEN, token)
        result = await self.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash.in_(hashes))
        )
        return result.scalar_one_or_none()

    async def _revoke_family(self, family_id: uuid.UUID) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
