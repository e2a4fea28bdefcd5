"""Presigned S3 URLs, signed in-process with SigV4 query authentication.

A client's `generate_presigned_url` resolves the endpoint ruleset, serializes the operation
and runs its event hooks on every call, and botocore's request signer builds and re-parses a
request object several times over; all of it runs on every `POST /api/jobs`. The bucket's URL
is the same for every key, so it is learned once from the client, and each URL is then signed
here by the published algorithm (AWS's "Authenticating Requests: Using Query Parameters"),
with the client's own credentials, refreshed as they near expiry as the client would. The
URLs are byte-identical to the client's: `tests/jobs/test_presigning.py` compares them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.exceptions import NoCredentialsError

# Any key will do: only the part of the URL before it is kept.
PROBE_KEY = "reframer-presign-probe"

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "s3"
# A presigned URL cannot know the body it will carry.
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Presigner:
    def __init__(self, credentials: Any, region: str, bucket_url: str) -> None:
        self._credentials = credentials
        self._region = region
        self._bucket_url = bucket_url
        self._host = _host_of(bucket_url)
        self._path = urlsplit(bucket_url).path
        self._signing_key: tuple[str, str, bytes] | None = None  # (secret, date, key)

    @classmethod
    async def for_bucket(cls, session: Any, s3: Any, bucket: str, region: str) -> Presigner:
        """Learns the bucket's URL (addressing style, endpoint) from the client `s3`."""
        probe: str = await s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": PROBE_KEY}
        )
        bucket_url = probe.split("?", 1)[0].removesuffix(PROBE_KEY)
        return cls(await session.get_credentials(), region, bucket_url)

    async def url(
        self,
        method: str,
        key: str,
        *,
        ttl_seconds: int,
        headers: dict[str, str] | None = None,
        query: Sequence[tuple[str, str]] = (),
    ) -> str:
        """A `method` URL for `key`, valid `ttl_seconds`; `headers` are signed: the request
        must send exactly these. `query` (an operation's own parameters, such as UploadPart's
        `uploadId` and `partNumber`) is signed too and comes first, as the client orders it."""
        if self._credentials is None:
            raise NoCredentialsError()
        credentials = await self._credentials.get_frozen_credentials()
        timestamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        date = timestamp[:8]
        scope = f"{date}/{self._region}/{SERVICE}/aws4_request"

        signed = {"host": self._host}
        for name, value in (headers or {}).items():
            signed[name.lower()] = " ".join(value.split())
        names = sorted(signed)
        signed_headers = ";".join(names)

        params = [
            *query,
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", f"{credentials.access_key}/{scope}"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", str(ttl_seconds)),
            ("X-Amz-SignedHeaders", signed_headers),
        ]
        if credentials.token is not None:
            params.append(("X-Amz-Security-Token", credentials.token))
        encoded = [(_encode(name), _encode(value)) for name, value in params]
        query_string = "&".join(f"{name}={value}" for name, value in encoded)

        quoted_key = quote(key, safe="/~")
        canonical_request = "\n".join(
            (
                method,
                self._path + quoted_key,  # S3 signs the path as sent, unnormalised
                "&".join(f"{name}={value}" for name, value in sorted(encoded)),
                "".join(f"{name}:{signed[name]}\n" for name in names),
                signed_headers,
                UNSIGNED_PAYLOAD,
            )
        )
        string_to_sign = "\n".join(
            (ALGORITHM, timestamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
        )
        signature = hmac.new(
            self._key_for(credentials.secret_key, date), string_to_sign.encode(), hashlib.sha256
        ).hexdigest()
        return f"{self._bucket_url}{quoted_key}?{query_string}&X-Amz-Signature={signature}"

    def _key_for(self, secret: str, date: str) -> bytes:
        """The day's signing key, derived once per day (and per credential rotation)."""
        cached = self._signing_key
        if cached is not None and cached[0] == secret and cached[1] == date:
            return cached[2]
        key = f"AWS4{secret}".encode()
        for part in (date, self._region, SERVICE, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self._signing_key = (secret, date, key)
        return key


def _encode(value: str) -> str:
    return quote(value, safe="-._~")


def _host_of(url: str) -> str:
    """The Host header a client sends to `url`: lowercase, the port only if not the default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host
