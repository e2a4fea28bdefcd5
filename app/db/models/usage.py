from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class UsageCounter(Base):
    """An account's usage in one calendar month (UTC), counted when jobs are confirmed."""

    __tablename__ = "usage_counters"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11"
    jobs: Mapped[int] = mapped_column(default=0)
    source_seconds: Mapped[float] = mapped_column(default=0.0)
