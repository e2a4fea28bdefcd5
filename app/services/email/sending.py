"""An email into the outbox, in the caller's transaction; the relay sends it over SMTP."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import OutboxMessage
from app.outbox.messages import Destination, enqueue
from app.services.email.rendering import RenderedEmail


def queue_email(session: AsyncSession, to: str, email: RenderedEmail) -> OutboxMessage:
    """The payload is what `app.outbox.publishers.smtp` sends; the sender comes from the
    settings then."""
    return enqueue(
        session,
        Destination.EMAIL,
        {
            "kind": email.kind.value,
            "to": to,
            "subject": email.subject,
            "text": email.text,
            "html": email.html,
        },
    )
