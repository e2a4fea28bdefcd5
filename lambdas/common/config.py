"""A Lambda's configuration: its environment, and its service token for the internal API.

Each function has a token of its own, named as the API's setting for it: the job_dispatcher's
`REFRAMER_SERVICE_TOKEN`, the webhook_delivery's `REFRAMER_WEBHOOK_SERVICE_TOKEN`. Locally the
token is in that variable; in production the function gets `<NAME>_SECRET_ARN` and reads the
token from Secrets Manager once per container (a warm container reuses it).
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


DISPATCHER_TOKEN_VARIABLE = "REFRAMER_SERVICE_TOKEN"  # noqa: S105 (a name, not a secret)
WEBHOOK_TOKEN_VARIABLE = "REFRAMER_WEBHOOK_SERVICE_TOKEN"  # noqa: S105


def service_token(variable: str) -> str:
    """The token in `variable`, or else in the secret named by `<variable>_SECRET_ARN`."""
    token = os.environ.get(variable, "").strip()
    if token:
        return token
    arn = os.environ.get(f"{variable}_SECRET_ARN", "").strip()
    if arn:
        return _secret_string(arn)
    raise MissingConfiguration(f"set {variable} (local) or {variable}_SECRET_ARN (production)")
