"""Sending one signed webhook, behind the SSRF guard.

The host is resolved here, at send time; every address it resolves to must be allowed
(`contracts.ssrf`), and the request then goes to one of those very addresses, so a DNS
answer that changes between the check and the connection (rebinding) cannot redirect it.
The Host header and, for HTTPS, the TLS SNI and certificate check keep the original name.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import httpx

from contracts.ssrf import refusal_reason
from contracts.webhook_signing import signing_headers

TIMEOUT_SECONDS = 15.0
USER_AGENT = "Reframer-Webhooks/1.0"
MAX_ERROR_CHARS = 1000
DEFAULT_PORTS = {"http": 80, "https": 443}


class TargetRefused(Exception):
    """The SSRF guard refused the target; nothing was sent."""


@dataclass(frozen=True)
class SendResult:
    attempted_at: datetime
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    refused_reason: str | None = None


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    if len(text) > MAX_ERROR_CHARS:
        # Said out loud, so a reader of the delivery log knows the message was cut.
        text = text[: MAX_ERROR_CHARS - 20] + " … [truncated]"
    return text


def resolve_allowed_addresses(host: str, port: int, *, allow_private_targets: bool) -> list[str]:
    """Every address `host` resolves to, if all of them are allowed targets.

    One refused address refuses the host: a name that answers with a public and a private
    address must not get a second chance to pick the private one.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise TargetRefused(f"{host} resolves to no address")
    for text in addresses:
        reason = refusal_reason(
            ipaddress.ip_address(text), allow_private_targets=allow_private_targets, name=host
        )
        if reason is not None:
            raise TargetRefused(reason)
    return addresses


class WebhookSender:
    def __init__(
        self,
        *,
        allow_private_targets: bool,
        timeout_seconds: float = TIMEOUT_SECONDS,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.allow_private_targets = allow_private_targets
        self._http = httpx.Client(
            timeout=timeout_seconds,
            follow_redirects=False,
            # A proxy from the environment would do its own DNS and undo the address check.
            trust_env=False,
            verify=verify,
        )

    def send(
        self,
        url: str,
        payload: str,
        secrets: list[str],
        message_id: str,
        *,
        require_https: bool,
    ) -> SendResult:
        attempted_at = datetime.now(UTC)
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL as exc:
            return SendResult(attempted_at, refused_reason=f"the URL is malformed ({exc})")
        allowed_schemes = ("https",) if require_https else ("http", "https")
        if target.scheme not in allowed_schemes:
            return SendResult(
                attempted_at, refused_reason="the URL must use " + " or ".join(allowed_schemes)
            )
        host = target.raw_host.decode("ascii")
        port = target.port or DEFAULT_PORTS[target.scheme]
        try:
            addresses = resolve_allowed_addresses(
                host, port, allow_private_targets=self.allow_private_targets
            )
        except TargetRefused as refused:
            return SendResult(attempted_at, refused_reason=str(refused))
        except OSError as exc:
            return SendResult(attempted_at, error=f"DNS lookup of {host} failed: {_describe(exc)}")

        body = payload.encode()
        headers = {
            "Host": target.netloc.decode("ascii"),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signing_headers(secrets, message_id, int(time.time()), body).as_dict(),
        }
        extensions = {"sni_hostname": host} if target.scheme == "https" else {}
        started = time.perf_counter()
        last_error: httpx.HTTPError | None = None
        for address in addresses:
            try:
                # Only the status line and headers are read: a receiver's body is not ours.
                with self._http.stream(
                    "POST",
                    target.copy_with(host=address),
                    content=body,
                    headers=headers,
                    extensions=extensions,
                ) as response:
                    latency_ms = round((time.perf_counter() - started) * 1000)
                    return SendResult(
                        attempted_at, status_code=response.status_code, latency_ms=latency_ms
                    )
            except httpx.ConnectError as exc:
                last_error = exc  # try the next checked address, as a browser would
            except httpx.TimeoutException as exc:
                return SendResult(attempted_at, error=f"timed out: {_describe(exc)}")
            except httpx.HTTPError as exc:
                return SendResult(attempted_at, error=_describe(exc))
        assert last_error is not None
        return SendResult(attempted_at, error=_describe(last_error))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
