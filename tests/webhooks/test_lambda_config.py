"""The Lambdas' configuration: environment, and the service token from Secrets Manager (moto)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest

from app.local.moto_server import MotoServer
from lambdas.common import config
from lambdas.common.sqs import batch_response, sqs_records
from lambdas.webhook_delivery.handler import DeliveryConfig, handler


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer) -> Iterator[None]:
    for name in (
        "REFRAMER_SERVICE_TOKEN",
        "REFRAMER_SERVICE_TOKEN_SECRET_ARN",
        "REFRAMER_API_URL",
        "WEBHOOKS_QUEUE_URL",
        "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    config._secret_string.cache_clear()
    yield
    config._secret_string.cache_clear()


def test_the_token_comes_from_the_environment_or_secrets_manager(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(config.MissingConfiguration, match="REFRAMER_SERVICE_TOKEN"):
        config.service_token()
    secret = boto3.client("secretsmanager").create_secret(
        Name=f"reframer/service-token-{uuid.uuid4().hex[:8]}", SecretString="from-secrets-manager\n"
    )
    monkeypatch.setenv("REFRAMER_SERVICE_TOKEN_SECRET_ARN", secret["ARN"])
    assert config.service_token() == "from-secrets-manager"
    monkeypatch.setenv("REFRAMER_SERVICE_TOKEN", "local-token")
    assert config.service_token() == "local-token"  # a local run needs no Secrets Manager


def test_flags_and_required_variables_are_checked(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(config.MissingConfiguration, match="REFRAMER_API_URL"):
        DeliveryConfig.from_env()
    monkeypatch.setenv("REFRAMER_API_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("WEBHOOKS_QUEUE_URL", "http://127.0.0.1:1/q")
    assert DeliveryConfig.from_env().allow_private_targets is False  # guarded unless told
    monkeypatch.setenv("REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS", "True")
    assert DeliveryConfig.from_env().allow_private_targets is True
    monkeypatch.setenv("REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS", "maybe")
    with pytest.raises(config.MissingConfiguration, match="neither true nor false"):
        DeliveryConfig.from_env()


def test_a_misconfigured_function_fails_the_whole_batch(clean_env: None) -> None:
    event = {"Records": [{"messageId": "m", "receiptHandle": "r", "body": "{}"}]}
    with pytest.raises(config.MissingConfiguration):
        handler(event, None)


def test_sqs_event_parsing_and_the_partial_batch_response() -> None:
    event = {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "r1",
                "body": "b",
                "attributes": {"ApproximateReceiveCount": "3", "MessageGroupId": "g"},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                "awsRegion": "us-east-1",
            },
            {"messageId": "x", "receiptHandle": "y", "body": "", "eventSource": "aws:s3"},
        ]
    }
    [record] = sqs_records(event)
    assert (record.message_id, record.receive_count, record.message_group_id) == ("m1", 3, "g")
    assert batch_response(["m1"]) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert batch_response([]) == {"batchItemFailures": []}
