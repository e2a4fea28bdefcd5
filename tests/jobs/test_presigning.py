"""Upload and download URLs are signed in-process (app/aws/presigning.py) and must be exactly
the URLs the S3 client itself would presign: same endpoint and addressing, same signed
headers, same credential scope and signature, session tokens included."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import aioboto3
import pytest
from botocore.config import Config

from app.aws.clients import AwsClients
from app.aws.presigning import Presigner
from app.aws.s3 import presign_get, presign_part, presign_put
from app.config import Settings
from devstack.moto_server import MotoServer
from devstack.provision import LocalAws

KEY = "uploads/0190b7d4-8c1e-7a3b-9f00-5b1d6c2e9a11/Zk3-_q9xYh0aB7dTmL2pRw8eNsUvXc1J/source"


async def _same_second(
    ours: Callable[[], Awaitable[str]], theirs: Callable[[], Awaitable[str]]
) -> tuple[str, str]:
    """Both URLs, signed within the same second (the signature covers X-Amz-Date)."""
    for _ in range(5):
        a, b = await ours(), await theirs()
        if parse_qs(urlsplit(a).query)["X-Amz-Date"] == parse_qs(urlsplit(b).query)["X-Amz-Date"]:
            return a, b
    raise AssertionError("could not sign twice within one second")


async def test_the_apps_upload_and_download_urls_are_the_clients_own(
    aws: LocalAws, moto_server: MotoServer
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        aws_endpoint_url=moto_server.endpoint_url,
        s3_bucket=aws.bucket,
    )
    async with AwsClients(settings) as clients:
        put, client_put = await _same_second(
            lambda: presign_put(
                clients.presigner, KEY, content_type="video/mp4", size_bytes=48_000_000,
                ttl_seconds=900,
            ),
            lambda: clients.s3.generate_presigned_url(
                "put_object",
                Params={"Bucket": aws.bucket, "Key": KEY, "ContentType": "video/mp4",
                        "ContentLength": 48_000_000},
                ExpiresIn=900,
            ),
        )  # fmt: skip
        get, client_get = await _same_second(
            lambda: presign_get(clients.presigner, KEY, ttl_seconds=3600),
            lambda: clients.s3.generate_presigned_url(
                "get_object", Params={"Bucket": aws.bucket, "Key": KEY}, ExpiresIn=3600
            ),
        )
    assert put == client_put
    assert parse_qs(urlsplit(put).query)["X-Amz-SignedHeaders"] == [
        "content-length;content-type;host"
    ]
    assert urlsplit(put).path == f"/{aws.bucket}/{KEY}"
    assert get == client_get


# Keys the app makes are URL-safe; one that is not shows both sides escape it alike.
ODD_KEY = "outputs/0190b7d4/clip (final) ä+b~c=d.mp4"


@pytest.mark.parametrize(
    ("region", "bucket", "key"),
    [
        ("us-east-1", "reframer-media", KEY),
        ("eu-west-1", "reframer-media", KEY),
        ("eu-west-1", "media.example.com", KEY),
        ("us-east-1", "reframer-media", ODD_KEY),
    ],
)
async def test_urls_match_the_client_on_aws_endpoints_with_temporary_credentials(
    region: str, bucket: str, key: str
) -> None:
    """As on Fargate: no endpoint override (virtual-hosted or path style as S3 needs), and a
    task role's session token, which must travel in the URL."""
    session = aioboto3.Session(
        aws_access_key_id="ASIAEXAMPLEKEY",
        aws_secret_access_key="secret/with+chars",
        aws_session_token="FwoGZXIvYXdzEXAMPLETOKEN//+=",
        region_name=region,
    )
    config = Config(signature_version="s3v4", s3={"addressing_style": "auto"})
    async with session.client("s3", config=config) as s3:
        presigner = await Presigner.for_bucket(session, s3, bucket, region)
        ours, theirs = await _same_second(
            lambda: presigner.url(
                "PUT", key, ttl_seconds=900,
                headers={"Content-Type": "video/quicktime", "Content-Length": "7"},
            ),
            lambda: s3.generate_presigned_url(
                "put_object",
                Params={"Bucket": bucket, "Key": key, "ContentType": "video/quicktime",
                        "ContentLength": 7},
                ExpiresIn=900,
            ),
        )  # fmt: skip
    assert ours == theirs
    assert parse_qs(urlsplit(ours).query)["X-Amz-Security-Token"] == [
        "FwoGZXIvYXdzEXAMPLETOKEN//+="
    ]


@pytest.mark.parametrize(("region", "bucket"), [("us-east-1", "reframer-media"),
                                                ("eu-west-1", "media.example.com")])  # fmt: skip
async def test_part_urls_are_the_clients_own_and_sign_the_parts_length(
    region: str, bucket: str
) -> None:
    """S3 refuses an UploadPart whose Content-Length differs from the one signed, so a part
    URL carries exactly its own part and nothing longer or shorter."""
    session = aioboto3.Session(
        aws_access_key_id="ASIAEXAMPLEKEY",
        aws_secret_access_key="secret/with+chars",
        aws_session_token="FwoGZXIvYXdzEXAMPLETOKEN//+=",
        region_name=region,
    )
    upload_id = "2~Vb3Qz+9/xyz=="  # S3's upload ids hold characters that must be escaped
    config = Config(signature_version="s3v4", s3={"addressing_style": "auto"})
    async with session.client("s3", config=config) as s3:
        presigner = await Presigner.for_bucket(session, s3, bucket, region)
        ours, theirs = await _same_second(
            lambda: presign_part(
                presigner, KEY, upload_id=upload_id, part_number=3, size_bytes=8_388_608,
                ttl_seconds=900,
            ),
            lambda: s3.generate_presigned_url(
                "upload_part",
                Params={"Bucket": bucket, "Key": KEY, "UploadId": upload_id, "PartNumber": 3,
                        "ContentLength": 8_388_608},
                ExpiresIn=900,
            ),
        )  # fmt: skip
        other_length, same_length = await _same_second(
            lambda: presign_part(
                presigner, KEY, upload_id=upload_id, part_number=3, size_bytes=8_388_607,
                ttl_seconds=900,
            ),
            lambda: presign_part(
                presigner, KEY, upload_id=upload_id, part_number=3, size_bytes=8_388_608,
                ttl_seconds=900,
            ),
        )  # fmt: skip
    assert ours == theirs
    query = parse_qs(urlsplit(ours).query)
    assert query["X-Amz-SignedHeaders"] == ["content-length;host"]
    assert (query["uploadId"], query["partNumber"]) == ([upload_id], ["3"])

    # Signed in the same second, the URLs differ only by the length they bind.
    def signature(url: str) -> list[str]:
        return parse_qs(urlsplit(url).query)["X-Amz-Signature"]

    assert signature(other_length) != signature(same_length)
    assert other_length.split("X-Amz-Signature")[0] == same_length.split("X-Amz-Signature")[0]
