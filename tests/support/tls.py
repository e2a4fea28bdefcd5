"""Throwaway certificate authorities for TLS tests, from trustme.

- `make_loopback_certificate`: a server certificate for 127.0.0.1, with the CA as a file (for
  clients configured by path, such as the SMTP client's CA bundle);
- `make_pki`: a server certificate for given names, for tests that connect to one address but
  verify another name.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class LoopbackCertificate:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_loopback_certificate(directory: Path) -> LoopbackCertificate:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    directory.mkdir(parents=True, exist_ok=True)
    paths = LoopbackCertificate(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
    )
    ca.cert_pem.write_to_path(str(paths.ca_file))
    paths.cert_file.write_bytes(b"".join(pem.bytes() for pem in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(paths.key_file))
    return paths


@dataclass(frozen=True)
class TestPki:
    __test__ = False

    ca: trustme.CA
    server: trustme.LeafCert

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts only this CA, and checks host names."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ca.configure_trust(context)
        return context


def make_pki(server_names: list[str]) -> TestPki:
    ca = trustme.CA()
    return TestPki(ca, ca.issue_cert(*server_names))
