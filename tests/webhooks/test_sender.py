"""The Lambda's sender against real servers on loopback: the address it checked is the one it
connects to, while Host, SNI and the certificate check keep the URL's name."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from standardwebhooks.webhooks import Webhook

from contracts.webhook_signing import new_webhook_secret
from devstack.moto_server import free_port
from lambdas.webhook_delivery.sender import WebhookSender
from tests.support.tls import make_pki
from tests.support.webhook_receiver import run_receiver

PAYLOAD = '{"id":"evt_1","type":"webhook.test","created_at":"2026-01-01T00:00:00.000Z","data":{}}'


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        yield server.getsockname()[1]


def test_https_goes_to_the_checked_address_with_the_names_sni_host_and_certificate() -> None:
    pki = make_pki(["localhost"])  # no IP in the certificate: only the name verifies
    secret = new_webhook_secret()
    with run_receiver(tls=pki.server_context()) as receiver:
        sender = WebhookSender(allow_private_targets=True, verify=pki.client_context())
        with sender:
            by_name = sender.send(
                receiver.url(host="localhost"), PAYLOAD, [secret], "evt_1", require_https=True
            )
            by_address = sender.send(
                receiver.url(host="127.0.0.1"), PAYLOAD, [secret], "evt_1", require_https=True
            )
        assert by_name.status_code == 200, by_name
        [request] = receiver.requests
        assert request.headers["Host"] == f"localhost:{receiver.port}"
        assert receiver.sni_names[0] == "localhost"
        assert Webhook(secret).verify(request.body, request.headers)["id"] == "evt_1"
    # Verification is on: the certificate does not name 127.0.0.1.
    assert by_address.status_code is None
    assert by_address.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in by_address.error


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://[::ffff:169.254.169.254]/", "a cloud metadata address"),
        ("http://[::ffff:127.0.0.1]:{port}/", "a loopback address"),
        ("http://2130706433:{port}/", "2130706433 resolves to 127.0.0.1, a loopback address"),
        ("http://0x7f.1:{port}/", "resolves to 127.0.0.1, a loopback address"),
        ("http://localhost:{port}/", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://0.0.0.0:{port}/", "0.0.0.0 is an unspecified address"),
    ],
)
def test_the_guard_refuses_before_connecting(url: str, reason: str) -> None:
    with run_receiver() as receiver, WebhookSender(allow_private_targets=False) as sender:
        result = sender.send(
            url.format(port=receiver.port),
            PAYLOAD,
            [new_webhook_secret()],
            "e",
            require_https=False,
        )
        assert result.refused_reason is not None
        assert reason in result.refused_reason
        assert result.status_code is None
        assert receiver.requests == []


def test_plain_http_is_refused_where_https_is_required() -> None:
    with run_receiver() as receiver, WebhookSender(allow_private_targets=True) as sender:
        result = sender.send(
            receiver.url(), PAYLOAD, [new_webhook_secret()], "e", require_https=True
        )
        assert result.refused_reason == "the URL must use https"
        assert receiver.requests == []


def test_redirects_are_not_followed() -> None:
    with run_receiver() as receiver, WebhookSender(allow_private_targets=True) as sender:
        receiver.answer(302)
        result = sender.send(
            receiver.url(), PAYLOAD, [new_webhook_secret()], "e", require_https=False
        )
        assert result.status_code == 302
        assert len(receiver.requests) == 1


def test_unreachable_and_silent_receivers_are_network_errors(silent_port: int) -> None:
    with WebhookSender(allow_private_targets=True, timeout_seconds=0.5) as sender:
        closed = sender.send(
            f"http://127.0.0.1:{free_port()}/", PAYLOAD, [new_webhook_secret()], "e",
            require_https=False,
        )  # fmt: skip
        silent = sender.send(
            f"http://127.0.0.1:{silent_port}/", PAYLOAD, [new_webhook_secret()], "e",
            require_https=False,
        )  # fmt: skip
    assert closed.status_code is None
    assert closed.error is not None
    assert "ConnectError" in closed.error
    assert silent.status_code is None
    assert silent.error is not None
    assert silent.error.startswith("timed out")
