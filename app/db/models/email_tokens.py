from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin
from app.domain.clock import utcnow


class EmailToken(IdMixin, Base):
    """A single-use token mailed to an address (verification, password reset).

    Only its keyed hash is stored. `email` is the address it was sent to, so a token
    proves ownership of that address and no other.
    """

    __tablename__ = "email_tokens"
    __table_args__ = (Index("ix_email_tokens_account_purpose", "account_id", "purpose"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # retention deletes by it
    used_at: Mapped[datetime | None]
