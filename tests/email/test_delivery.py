"""The relay's SMTP side: what goes over the wire, SMTP being away, STARTTLS and AUTH,
and the local sink's files and log line."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.config import Settings
from app.db.models import OutboxMessage
from app.domain.clock import utcnow
from app.outbox.messages import REDACTED, Destination
from app.outbox.publishers.smtp import SmtpPublisher
from app.outbox.relay import envelope_of
from devstack.smtp_sink import SmtpSink, parse_email, start_smtp_sink
from tests.support.mailbox import Mailbox, html_of, link_of
from tests.support.tls import make_loopback_certificate
from tests.support.users import UserFactory

SMTP_USER = "reframer"
SMTP_PASSWORD = "smtp password for tests"


async def _email_rows(app: FastAPI) -> list[OutboxMessage]:
    async with app.state.sessionmaker() as session:
        result = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.destination == Destination.EMAIL.value)
            .order_by(OutboxMessage.created_at)
        )
        return list(result.scalars())


async def test_an_email_is_multipart_from_the_configured_sender(
    app: FastAPI, settings: Settings, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create(verified=False)
    [row] = await _email_rows(app)
    email = await mailbox.deliver_one("verify_email")
    assert email.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in email.iter_parts()] == ["text/plain", "text/html"]
    assert email["From"] == settings.email_from
    assert email["To"] == user.email
    assert email["Message-ID"] == f"<{row.id}@reframer.example>"
    assert email["Date"]
    assert link_of(email) in html_of(email)


async def test_a_sent_email_keeps_no_link_in_the_outbox(
    app: FastAPI, users: UserFactory, mailbox: Mailbox
) -> None:
    await users.create(verified=False)
    [pending] = await _email_rows(app)
    assert "token=" in pending.payload["text"]
    await mailbox.deliver()
    [sent] = await _email_rows(app)
    assert sent.sent_at is not None
    assert sent.payload["text"] == sent.payload["html"] == REDACTED
    assert sent.payload["to"] == pending.payload["to"]
    assert sent.payload["subject"] == pending.payload["subject"]


async def test_smtp_down_leaves_the_email_pending_until_the_server_is_back(
    client: httpx.AsyncClient, app: FastAPI, smtp_sink: SmtpSink, mailbox: Mailbox
) -> None:
    smtp_sink.stop()
    registered = await client.post(
        "/api/auth/register", json={"email": "wait@example.com", "password": "a long password"}
    )
    assert registered.status_code == 201  # the request never waits for SMTP

    assert await app.state.outbox_relay.relay_once() == (0, 1)
    [row] = await _email_rows(app)
    assert row.sent_at is None
    assert row.attempts == 1
    assert row.last_error
    assert "token=" in row.payload["text"]

    smtp_sink.start()  # same port, as a restarted server would be
    await asyncio.sleep(max(0.0, (row.available_at - utcnow()).total_seconds()) + 0.05)
    email = await mailbox.deliver_one("verify_email")
    assert email["To"] == "wait@example.com"
    [row] = await _email_rows(app)
    assert row.sent_at is not None
    assert row.attempts == 1


async def test_starttls_and_auth_as_in_production(
    app: FastAPI, settings: Settings, users: UserFactory, tmp_path: Path
) -> None:
    await users.create(verified=False)
    [row] = await _email_rows(app)
    certificate = make_loopback_certificate(tmp_path / "tls")
    relay = start_smtp_sink(
        tmp_path / "relay-mail",
        tls_context=certificate.server_context(),
        credentials=(SMTP_USER, SMTP_PASSWORD),
    )
    try:
        production_like = settings.model_copy(
            update={
                "smtp_host": relay.host,
                "smtp_port": relay.port,
                "smtp_starttls": True,
                "smtp_username": SMTP_USER,
                "smtp_password": SMTP_PASSWORD,
                "smtp_ca_bundle": str(certificate.ca_file),
            }
        )
        assert await SmtpPublisher(production_like).publish([envelope_of(row)]) == {row.id: None}
        [email] = relay.messages()
        assert email["Message-ID"] == f"<{row.id}@reframer.example>"

        wrong_password = production_like.model_copy(update={"smtp_password": "not it"})
        [error] = (await SmtpPublisher(wrong_password).publish([envelope_of(row)])).values()
        assert error is not None
        assert "535" in error  # authentication failed
        assert len(relay.messages()) == 1
    finally:
        relay.stop()


async def test_starttls_required_refuses_a_server_without_it(
    app: FastAPI, settings: Settings, smtp_sink: SmtpSink, users: UserFactory
) -> None:
    """Credentials never cross the wire in clear text: no STARTTLS, no sending."""
    await users.create(verified=False)
    [row] = await _email_rows(app)
    insist = settings.model_copy(
        update={"smtp_starttls": True, "smtp_username": SMTP_USER, "smtp_password": SMTP_PASSWORD}
    )
    [error] = (await SmtpPublisher(insist).publish([envelope_of(row)])).values()
    assert error is not None
    assert "STARTTLS" in error
    assert smtp_sink.messages() == []


async def test_the_sink_keeps_eml_files_and_logs_a_line_with_the_link(
    users: UserFactory,
    smtp_sink: SmtpSink,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await users.create(verified=False)
    with caplog.at_level(logging.INFO, logger="devstack.smtp_sink"):
        email = await mailbox.deliver_one("verify_email")
    [path] = smtp_sink.files()
    assert path.suffix == ".eml"
    assert parse_email(path.read_bytes())["Message-ID"] == email["Message-ID"]
    [line] = [r.getMessage() for r in caplog.records if r.name == "devstack.smtp_sink"]
    assert "\n" not in line
    assert user.email in line
    assert link_of(email) in line
