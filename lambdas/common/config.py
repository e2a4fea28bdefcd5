"""A Lambda's configuration: its environment, and the service token for the internal API.

Locally the token is in `REFRAMER_SERVICE_TOKEN`; in production the function gets
`REFRAMER_SERVICE_TOKEN_SECRET_ARN` and reads the token from Secrets Manager once per
container (a warm container reuses it).
"""

from __future__ import annotations

import os
from functools import lru_cache

import boto3

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class MissingConfiguration(RuntimeError):
    pass


def require_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingConfiguration(f"the environment variable {name} is not set")
    return value


def env_flag(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise MissingConfiguration(f"{name}={raw!r} is neither true nor false")


@lru_cache(maxsize=4)
def _secret_string(arn: str) -> str:
    response = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    secret = response.get("SecretString")
    if not secret:
        raise MissingConfiguration(f"the secret {arn} has no string value")
    return secret.strip()


def service_token() -> str:
    token = os.environ.get("REFRAMER_SERVICE_TOKEN", "").strip()
    if token:
        return token
    arn = os.environ.get("REFRAMER_SERVICE_TOKEN_SECRET_ARN", "").strip()
    if arn:
        return _secret_string(arn)
    raise MissingConfiguration(
        "set REFRAMER_SERVICE_TOKEN (local) or REFRAMER_SERVICE_TOKEN_SECRET_ARN (production)"
    )
