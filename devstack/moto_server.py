"""moto in server mode on loopback: the real S3 and SQS wire protocol, no AWS account."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from moto.server import ThreadedMotoServer

# moto accepts any credentials; these keep boto from looking for real ones.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MotoServer:
    port: int
    _server: ThreadedMotoServer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        for name, value in FAKE_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def start_moto(port: int | None = None) -> MotoServer:
    server = MotoServer(port=port or free_port())
    server.start()
    return server
