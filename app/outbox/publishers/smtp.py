"""Publishes outbox emails over SMTP (aiosmtplib), one connection per batch.

A message that fails (server away, refused, timed out) stays pending: the relay backs it
off and tries again. A sent one loses its body in the outbox (`messages.kept_after_sending`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

import aiosmtplib

from app.config import Settings
from app.outbox.envelope import Envelope, PublishResults

MAX_ERROR_CHARS = 500


def sender_domain(sender: str) -> str:
    _name, address = parseaddr(sender)
    return address.rpartition("@")[2] or "reframer.invalid"


def build_message(message_id: uuid.UUID, payload: dict[str, Any], sender: str) -> EmailMessage:
    """A multipart/alternative email; the Message-ID is stable across retries."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = Address(addr_spec=payload["to"])
    email["Subject"] = payload["subject"]
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = f"<{message_id}@{sender_domain(sender)}>"
    email["X-Reframer-Kind"] = payload.get("kind", "unknown")
    email.set_content(payload["text"])
    email.add_alternative(payload["html"], subtype="html")
    return email


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


class SmtpPublisher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _client(self) -> aiosmtplib.SMTP:
        settings = self.settings
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            # True: upgrade or fail, never fall back to clear text; False: plain (local sink).
            start_tls=settings.smtp_starttls,
            cert_bundle=settings.smtp_ca_bundle,
            timeout=settings.smtp_timeout_seconds,
        )

    async def publish(self, messages: Sequence[Envelope]) -> PublishResults:
        """Returns each message's error, or None where the server accepted it."""
        results: PublishResults = {}
        try:
            async with self._client() as smtp:
                for message in messages:
                    try:
                        email = build_message(message.id, message.payload, self.settings.email_from)
                        await smtp.send_message(email)
                    except (aiosmtplib.SMTPException, ValueError, KeyError) as exc:
                        results[message.id] = _error(exc)
                        continue
                    results[message.id] = None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Connecting, STARTTLS or login failed: whatever was not sent waits for a retry.
            for message in messages:
                results.setdefault(message.id, _error(exc))
        return results
