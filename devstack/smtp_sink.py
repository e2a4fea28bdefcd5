"""A local SMTP server on loopback that keeps every email as an `.eml` file.

`make run` starts it where the settings point (`REFRAMER_SMTP_HOST`/`PORT`, folder
`REFRAMER_SMTP_SINK_DIR`); the tests start one on a free port. Each message is logged as one
line with its first link, so a developer can click through verification and reset.
Alone: `python -m devstack.smtp_sink`.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import re
import signal
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from devstack.moto_server import free_port

logger = logging.getLogger("devstack.smtp_sink")

_LINK = re.compile(r"https?://\S+")


def parse_email(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)


def plain_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


def first_link(message: EmailMessage) -> str | None:
    found = _LINK.search(plain_text(message))
    return found.group(0) if found else None


def verification_link(mail_dir: Path, email: str, timeout: float = 0.0) -> str | None:
    """The newest verification link sent to `email`, waiting up to `timeout` seconds for the
    relay to deliver it; None when none came."""
    deadline = time.monotonic() + timeout
    while True:
        for eml in sorted(mail_dir.glob("*.eml"), reverse=True):
            message = parse_email(eml.read_bytes())
            link = first_link(message)
            if message["To"] == email and link and "verify-email" in link:
                return link
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


class _MailboxHandler:
    """aiosmtpd calls `handle_DATA` once per accepted message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._counter = itertools.count(1)

    def _store(self, raw: bytes) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.directory / f"{stamp}-{next(self._counter):05d}.eml"
        path.write_bytes(raw)
        return path

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        path = await asyncio.to_thread(self._store, raw)
        message = parse_email(raw)
        logger.info(
            "mail to %s: %s%s (%s)",
            ", ".join(envelope.rcpt_tos),
            message.get("Subject", "(no subject)"),
            f" -> {link}" if (link := first_link(message)) else "",
            path,
        )
        return "250 Message accepted for delivery"


class _CredentialsCheck:
    """An aiosmtpd authenticator that accepts one user name and password."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username.encode()
        self.password = password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, self.username)
            and hmac.compare_digest(auth_data.password, self.password)
        )
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpSink:
    """With `tls_context` it offers STARTTLS and demands it; with `credentials`, AUTH too
    (over TLS only), like a production relay."""

    directory: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    tls_context: ssl.SSLContext | None = None
    credentials: tuple[str, str] | None = None
    _controller: Controller | None = None

    def start(self) -> None:
        # aiosmtpd logs every SMTP command at INFO; the one-line summary is what matters here.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.directory.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {"enable_SMTPUTF8": True}
        if self.tls_context is not None:
            options.update(tls_context=self.tls_context, require_starttls=True)
        if self.credentials is not None:
            options.update(authenticator=_CredentialsCheck(*self.credentials), auth_required=True)
        self._controller = Controller(
            _MailboxHandler(self.directory), hostname=self.host, port=self.port, **options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def files(self) -> list[Path]:
        """The stored messages, oldest first."""
        return sorted(self.directory.glob("*.eml"))

    def messages(self) -> list[EmailMessage]:
        return [parse_email(path.read_bytes()) for path in self.files()]


def start_smtp_sink(
    directory: Path,
    port: int | None = None,
    host: str = "127.0.0.1",
    *,
    tls_context: ssl.SSLContext | None = None,
    credentials: tuple[str, str] | None = None,
) -> SmtpSink:
    sink = SmtpSink(
        directory=directory,
        port=port or free_port(),
        host=host,
        tls_context=tls_context,
        credentials=credentials,
    )
    sink.start()
    return sink


async def _main() -> None:
    from app.config import get_settings
    from app.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, json_output=False)
    sink = start_smtp_sink(Path(settings.smtp_sink_dir), settings.smtp_port, settings.smtp_host)
    logger.info("SMTP sink on %s:%s, storing mail in %s", sink.host, sink.port, sink.directory)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        sink.stop()


if __name__ == "__main__":
    asyncio.run(_main())
