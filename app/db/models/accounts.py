from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.domain.plans import PlanName


class Account(IdMixin, TimestampMixin, Base):
    """A customer: one login, one plan; every other row belongs to one."""

    __tablename__ = "accounts"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    plan: Mapped[str] = mapped_column(String(32), default=PlanName.FREE.value)
