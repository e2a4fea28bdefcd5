from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.domain.plans import PlanName


class Account(IdMixin, TimestampMixin, Base):
    """A customer: one login, one plan; every other row belongs to one."""

    __tablename__ = "accounts"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    plan: Mapped[str] = mapped_column(String(32), default=PlanName.FREE.value)
    # Set when the owner opened a verification (or password-reset) link sent to `email`.
    email_verified_at: Mapped[datetime | None]
    notify_on_job_done: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Every access token carries the version it was issued under; changing or resetting the
    # password and "log out everywhere" bump it, which ends every earlier token at once.
    session_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
