"""The SubmitJob request the dispatcher builds from the API's spec: pure, tested directly."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from contracts.dispatch import DispatchSpec
from lambdas.common.config import MissingConfiguration
from lambdas.common.sqs import SqsRecord
from lambdas.job_dispatcher.handler import (
    DispatcherConfig,
    MalformedMessage,
    batch_job_name,
    job_id_of,
    split_children,
    split_requests,
    submit_job_request,
    traceparent_of,
)

JOB_ID = "01a20203-21a0-7767-9057-2324a50b19b1"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
CONFIG = DispatcherConfig(
    api_url="http://127.0.0.1:8000",
    job_queues={"standard": "queue-standard", "priority": "queue-priority"},
    job_definition="reframer-pipeline:3",
)
SPEC = {
    "job_id": JOB_ID,
    "account_id": "01a20203-21a0-7767-9057-2324a50b19b2",
    "plan": "business",
    "input_uri": f"s3://media/uploads/{JOB_ID}/source",
    "output_prefix": f"s3://media/outputs/{JOB_ID}/",
    "options": {"aspect_ratio": "1:1", "resolution": "1080p"},
    "max_source_seconds": 10800,
    "batch_queue": "priority",
    "callback_url": f"https://api.example.com/internal/jobs/{JOB_ID}",
    "callback_token": "cbt_secret",
}


def record(body: str, message_attributes: dict[str, object] | None = None) -> SqsRecord:
    return SqsRecord(
        message_id="m-1",
        receipt_handle="r-1",
        body=body,
        attributes={"MessageGroupId": "account-1"},
        event_source_arn="arn:aws:sqs:us-east-1:000000000000:reframer-jobs.fifo",
        aws_region="us-east-1",
        message_attributes=dict(message_attributes or {}),
    )


def spec(**changes: object) -> DispatchSpec:
    return DispatchSpec.model_validate({**SPEC, **changes})


def test_the_request_carries_the_spec_and_leaves_retries_and_timeout_to_the_job_definition() -> (
    None
):
    request = submit_job_request(spec(), CONFIG, TRACEPARENT)

    assert request["jobQueue"] == "queue-priority"
    assert request["jobDefinition"] == "reframer-pipeline:3"
    assert request["jobName"] == f"reframer-{JOB_ID}"
    environment = {e["name"]: e["value"] for e in request["containerOverrides"]["environment"]}
    assert environment == {
        "JOB_ID": JOB_ID,
        "INPUT_URI": SPEC["input_uri"],
        "OUTPUT_PREFIX": SPEC["output_prefix"],
        "OPTIONS": json.dumps(SPEC["options"], separators=(",", ":")),
        "MAX_SOURCE_SECONDS": "10800",
        "CALLBACK_URL": SPEC["callback_url"],
        "CALLBACK_TOKEN": "cbt_secret",
        "TRACEPARENT": TRACEPARENT,
    }
    # An override would replace the template's rules (tests/infra checks those): none here.
    assert "retryStrategy" not in request
    assert "timeout" not in request


def test_without_a_trace_the_container_gets_no_traceparent() -> None:
    request = submit_job_request(spec(batch_queue="standard"), CONFIG, None)
    names = {e["name"] for e in request["containerOverrides"]["environment"]}
    assert "TRACEPARENT" not in names
    assert request["jobQueue"] == "queue-standard"


def test_an_unknown_queue_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="batch_queue"):
        spec(batch_queue="express")
    only_standard = DispatcherConfig(
        api_url=CONFIG.api_url, job_queues={"standard": "q"}, job_definition="d"
    )
    with pytest.raises(ValueError, match="unknown Batch queue"):
        submit_job_request(spec(), only_standard, None)


def test_the_traceparent_comes_from_the_message_attribute() -> None:
    attribute = {"stringValue": TRACEPARENT, "dataType": "String"}
    assert traceparent_of(record("{}", {"traceparent": attribute})) == TRACEPARENT
    assert traceparent_of(record("{}")) is None


@pytest.mark.parametrize(
    "body", ["{not json", "[]", '{"account_id": "a"}', '{"job_id": "not-a-uuid"}', "null"]
)
def test_a_message_without_a_job_id_is_malformed(body: str) -> None:
    with pytest.raises(MalformedMessage):
        job_id_of(record(body))


def test_batch_job_names_keep_to_batchs_alphabet_and_length() -> None:
    assert batch_job_name(JOB_ID) == f"reframer-{JOB_ID}"
    odd = batch_job_name("a.b:c/" + "x" * 200)
    assert len(odd) == 128
    assert set(odd) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def test_the_configuration_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "REFRAMER_API_URL": "http://127.0.0.1:8000",
        "BATCH_JOB_QUEUE_STANDARD": "standard",
        "BATCH_JOB_QUEUE_PRIORITY": "priority",
        "BATCH_JOB_DEFINITION": "reframer",
    }.items():
        monkeypatch.setenv(name, value)
    assert DispatcherConfig.from_env().job_definition == "reframer"
    monkeypatch.delenv("BATCH_JOB_DEFINITION")
    with pytest.raises(MissingConfiguration, match="BATCH_JOB_DEFINITION"):
        DispatcherConfig.from_env()


SPLIT = {"threshold_seconds": 1200, "segment_seconds": 180, "max_children": 64}


def test_a_source_declared_over_the_threshold_splits_into_one_child_per_segment() -> None:
    assert split_children(spec(render_split=SPLIT, source_seconds=3 * 3600)) == 60
    assert split_children(spec(render_split=SPLIT, source_seconds=1201)) == 7
    # The array never outgrows the setting, and is never a single child.
    assert split_children(spec(render_split=SPLIT, source_seconds=4 * 3600)) == 64
    several = {**SPLIT, "segment_seconds": 5000}
    assert split_children(spec(render_split=several, source_seconds=1300)) == 2


def test_a_short_undeclared_or_unconfigured_source_stays_in_one_container() -> None:
    assert split_children(spec(render_split=SPLIT, source_seconds=1200)) is None
    assert split_children(spec(render_split=SPLIT, source_seconds=None)) is None
    assert split_children(spec(source_seconds=3 * 3600)) is None  # an API without the setting


def test_a_split_submits_analysis_array_and_join_each_with_its_step() -> None:
    config = DispatcherConfig(
        api_url=CONFIG.api_url,
        job_queues=CONFIG.job_queues,
        job_definition="reframer-pipeline:3",
        segment_job_definition="reframer-segment:1",
    )
    analyse, segments, join = split_requests(
        spec(render_split=SPLIT, source_seconds=3600), config, TRACEPARENT, 20
    )

    def variables(request: object) -> dict[str, str]:
        assert isinstance(request, dict)
        return {e["name"]: e["value"] for e in request["containerOverrides"]["environment"]}

    assert variables(analyse)["RENDER_STEP"] == "analyse"
    assert variables(analyse)["RENDER_CHILDREN"] == "20"
    assert variables(analyse)["SEGMENT_SECONDS"] == "180"
    assert variables(segments)["RENDER_STEP"] == "segment"
    assert variables(segments)["RENDER_CHILDREN"] == "20"
    assert variables(join)["RENDER_STEP"] == "join"
    assert segments["arrayProperties"] == {"size": 20}
    assert segments["jobDefinition"] == "reframer-segment:1"
    assert analyse["jobDefinition"] == join["jobDefinition"] == "reframer-pipeline:3"
    assert "arrayProperties" not in analyse
    assert "arrayProperties" not in join
    for request in (analyse, segments, join):
        assert variables(request)["JOB_ID"] == JOB_ID
        assert variables(request)["TRACEPARENT"] == TRACEPARENT
        assert request["jobQueue"] == "queue-priority"
    assert [r["jobName"] for r in (analyse, segments, join)] == [
        f"reframer-{JOB_ID}-analyse",
        f"reframer-{JOB_ID}-segments",
        f"reframer-{JOB_ID}-join",
    ]
