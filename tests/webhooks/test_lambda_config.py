"""The Lambdas' configuration: environment, and the service token from Secrets Manager (moto)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest

from devstack.moto_server import MotoServer
from lambdas.common import config
from lambdas.common.sqs import batch_response, sqs_records
from lambdas.webhook_delivery.handler import DeliveryConfig, handler


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer) -> Iterator[None]:
    for name in (
        config.DISPATCHER_TOKEN_VARIABLE,
        f"{config.DISPATCHER_TOKEN_VARIABLE}_SECRET_ARN",
        config.WEBHOOK_TOKEN_VARIABLE,
        f"{config.WEBHOOK_TOKEN_VARIABLE}_SECRET_ARN",
        "REFRAMER_API_URL",
        "WEBHOOKS_QUEUE_URL",
        "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    config._secret_string.cache_clear()
    yield
    config._secret_string.cache_clear()


@pytest.mark.parametrize(
    ("variable", "other"),
    [
        (config.DISPATCHER_TOKEN_VARIABLE, config.WEBHOOK_TOKEN_VARIABLE),
        (config.WEBHOOK_TOKEN_VARIABLE, config.DISPATCHER_TOKEN_VARIABLE),
    ],
)
def test_each_lambdas_token_comes_from_its_variable_or_its_secret(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, variable: str, other: str
) -> None:
    monkeypatch.setenv(other, "the-other-lambdas-token")
    with pytest.raises(config.MissingConfiguration, match=variable):
        config.service_token(variable)
    secret = boto3.client("secretsmanager").create_secret(
        Name=f"reframer/service-token-{uuid.uuid4().hex[:8]}", SecretString="from-secrets-manager\n"
    )
    monkeypatch.setenv(f"{variable}_SECRET_ARN", secret["ARN"])
    assert config.service_token(variable) == "from-secrets-manager"
    monkeypatch.setenv(variable, "local-token")
    assert config.service_token(variable) == "local-token"  # a local run needs no Secrets Manager


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
