"""Reads what the outbox relay delivered to a real SMTP sink (devstack.smtp_sink)."""

from __future__ import annotations

from email.message import EmailMessage

from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.models import OutboxMessage
from app.outbox.messages import Destination
from app.services.email.links import token_of_link
from devstack.smtp_sink import SmtpSink, first_link, plain_text


class Mailbox:
    def __init__(self, app: FastAPI, sink: SmtpSink) -> None:
        self.app = app
        self.sink = sink
        self._seen = 0

    async def deliver(self) -> list[EmailMessage]:
        """Runs the relay once; returns the emails that arrived since the last call."""
        before = await self._sent_emails()
        _, failed = await self.app.state.outbox_relay.relay_once()
        assert failed == 0, "the relay failed to send a message"
        arrived = self.sink.messages()[self._seen :]
        self._seen += len(arrived)
        assert len(arrived) == await self._sent_emails() - before
        return arrived

    async def _sent_emails(self) -> int:
        async with self.app.state.sessionmaker() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.destination == Destination.EMAIL.value,
                    OutboxMessage.sent_at.is_not(None),
                )
            )
        return int(count or 0)

    async def deliver_one(self, kind: str) -> EmailMessage:
        emails = [m for m in await self.deliver() if m["X-Reframer-Kind"] == kind]
        assert len(emails) == 1, f"expected one {kind} email, got {len(emails)}"
        return emails[0]


def link_of(email: EmailMessage) -> str:
    link = first_link(email)
    assert link is not None, plain_text(email)
    return link


def token_of(email: EmailMessage) -> str:
    token = token_of_link(link_of(email))
    assert token is not None, link_of(email)
    return token


def html_of(email: EmailMessage) -> str:
    part = email.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
