"""Presigned S3 URLs, signed in-process with botocore's SigV4 query signer.

A client's `generate_presigned_url` resolves the endpoint ruleset, serializes the operation
and runs its event hooks on every call, three times the cost of the signature itself, and it
runs on every `POST /api/jobs`. The bucket's URL is the same for every key, so it is learned
once from the client; each URL is then signed directly, with the client's own credentials
(refreshed as they near expiry, as the client would). The URLs are identical to the
client's: `tests/jobs/test_presigning.py` compares them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import NoCredentialsError

# Any key will do: only the part of the URL before it is kept.
PROBE_KEY = "reframer-presign-probe"


class Presigner:
    def __init__(self, credentials: Any, region: str, bucket_url: str) -> None:
        self._credentials = credentials
        self._region = region
        self._bucket_url = bucket_url

    @classmethod
    async def for_bucket(cls, session: Any, s3: Any, bucket: str, region: str) -> Presigner:
        """Learns the bucket's URL (addressing style, endpoint) from the client `s3`."""
        probe: str = await s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": PROBE_KEY}
        )
        bucket_url = probe.split("?", 1)[0].removesuffix(PROBE_KEY)
        return cls(await session.get_credentials(), region, bucket_url)

    async def url(
        self, method: str, key: str, *, ttl_seconds: int, headers: dict[str, str] | None = None
    ) -> str:
        """A `method` URL for `key`, valid `ttl_seconds`; `headers` are signed: the request
        must send exactly these."""
        if self._credentials is None:
            raise NoCredentialsError()
        credentials = await self._credentials.get_frozen_credentials()
        request = AWSRequest(
            method=method, url=self._bucket_url + quote(key, safe="/~"), headers=headers
        )
        S3SigV4QueryAuth(credentials, "s3", self._region, expires=ttl_seconds).add_auth(request)
        url: str = request.prepare().url
        return url
