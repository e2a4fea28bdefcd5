"""Where inputs come from and outputs go: local paths, or S3 through boto3.

The S3 endpoint comes from `AWS_ENDPOINT_URL` when set (the local AWS emulation), so the same
code runs against AWS and against a server on loopback. boto3 is imported only when an s3://
URI is met: it takes seconds to import, and local runs never need it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from batch.reframer.errors import InvalidMedia, PipelineError, UploadFailed

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def _split(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def _client() -> S3Client:
    import boto3

    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def fetch(uri: str, workdir: Path) -> Path:
    """A local path to the input: the path itself, or a download of the S3 object."""
    return fetch_to(uri, workdir / ("input" + Path(_split(uri)[1]).suffix.lower()))


def fetch_to(uri: str, target: Path) -> Path:
    """A local path to the object: the path itself, or its download to `target`."""
    if not is_s3(uri):
        return Path(uri)
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _split(uri)
    try:
        _client().download_file(bucket, key, str(target))
    except ClientError as error:
        status = error.response.get("Error", {}).get("Code", "")
        if status in ("404", "NoSuchKey", "NotFound"):
            raise InvalidMedia(f"the input {uri} does not exist") from error
        raise PipelineError(f"the input {uri} could not be downloaded ({status})") from error
    except BotoCoreError as error:
        raise PipelineError(f"the input {uri} could not be downloaded ({error})") from error
    return target


def exists(uri: str) -> bool:
    """Whether the object (or local file) is there."""
    if not is_s3(uri):
        return Path(uri).is_file()
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _split(uri)
    try:
        _client().head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code", "") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise PipelineError(f"{uri} could not be looked up ({error})") from error
    except BotoCoreError as error:
        raise PipelineError(f"{uri} could not be looked up ({error})") from error
    return True


def join(prefix: str, name: str) -> str:
    """The URI (or path) of `name` under an output prefix."""
    if is_s3(prefix):
        return prefix.rstrip("/") + "/" + name
    return str(Path(prefix) / name)


# The tag a split render's working objects (plan, audio, segments) carry on S3: the bucket's
# lifecycle rule expires what carries it two days on (infra/template.yaml, expire-render-work),
# so a finished job does not keep its video twice, and a failed one leaves nothing behind.
WORK_TAG = "reframer-kind=render-work"


def store(
    local: Path, prefix: str, name: str, content_type: str, *, render_work: bool = False
) -> str:
    """Put one output under the prefix (a split render's working object with `render_work`, tagged
    WORK_TAG); returns its URI (or local path)."""
    destination = join(prefix, name)
    if not is_s3(prefix):
        try:
            Path(prefix).mkdir(parents=True, exist_ok=True)
            if local.resolve() != Path(destination).resolve():
                shutil.copyfile(local, destination)
        except OSError as error:
            raise UploadFailed(f"could not store {name} in {prefix} ({error})") from error
        return destination
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _split(destination)
    try:
        extra = {"ContentType": content_type, **({"Tagging": WORK_TAG} if render_work else {})}
        _client().upload_file(str(local), bucket, key, ExtraArgs=extra)
    except (ClientError, BotoCoreError, OSError) as error:
        raise UploadFailed(f"could not upload {name} to {prefix} ({error})") from error
    return destination
