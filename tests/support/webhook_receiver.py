"""A customer's webhook receiver: a real HTTP(S) server on a free 127.0.0.1 port that
records what it is sent and answers with the status codes it is told to."""

from __future__ import annotations

import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float


@dataclass
class WebhookReceiver:
    port: int
    scheme: str = "http"
    requests: list[ReceivedRequest] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)
    default_status: int = 200
    sni_names: list[str | None] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def answer(self, *statuses: int) -> None:
        """The next requests get these statuses, in order; later ones the default."""
        self.statuses.extend(statuses)

    def _record(self, request: ReceivedRequest) -> int:
        with self._lock:
            self.requests.append(request)
            return self.statuses.popleft() if self.statuses else self.default_status


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver._record(
                ReceivedRequest(self.path, dict(self.headers.items()), body, time.monotonic())
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    return Handler


@contextmanager
def run_receiver(tls: ssl.SSLContext | None = None) -> Iterator[WebhookReceiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    receiver = WebhookReceiver(port=server.server_address[1], scheme="https" if tls else "http")
    server.RequestHandlerClass = _handler_for(receiver)
    if tls is not None:

        def remember_sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
            receiver.sni_names.append(name)

        tls.sni_callback = remember_sni  # type: ignore[assignment]
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
