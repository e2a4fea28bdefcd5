"""The job_dispatcher Lambda (SQS FIFO event source, ReportBatchItemFailures on).

Each message is `{"job_id": "<uuid>", "account_id": "<uuid>"}`, grouped by account. For each,
in order: claim the job from the API (`/dispatch`: its spec and a fresh callback token),
submit the Batch job, and tell the API its Batch id (`/submitted`).

- The API answers 409 (already dispatched, or never confirmed) or 404: the message is done,
  no Batch job. This is what makes a duplicate delivery harmless.
- Anything else going wrong returns the record as a batch item failure, and with it every
  later record of the same message group in this batch: SQS FIFO order holds per group.

The handler always calls boto3's `batch` client; locally `AWS_ENDPOINT_URL_BATCH` points it at
the local Batch runner (`devstack/batch_runner.py`).

A submission overrides neither the retry strategy nor the attempt timeout: the job definition
in `infra/template.yaml` is their one source (only infrastructure losses are retried).

A source declared longer than the spec's `render_split.threshold_seconds` renders in parallel
(batch/reframer/segments.py), as three submissions: the analysis (the job's Batch job: its
container posts start), an array job of one child per segment (`arrayProperties.size`, on the
segment job definition) that depends on it, and the join, which depends on the whole array.
Batch starts none of the later ones if an earlier one fails.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import ValidationError

from contracts.callbacks import JobState
from contracts.dispatch import BatchJobReport, DispatchSpec, JobMessage
from lambdas.common.api_client import ApiError, InternalApi
from lambdas.common.config import DISPATCHER_TOKEN_VARIABLE, require_env, service_token
from lambdas.common.sqs import SqsRecord, batch_response, sqs_records

if TYPE_CHECKING:
    from mypy_boto3_batch import BatchClient
    from mypy_boto3_batch.type_defs import SubmitJobRequestTypeDef

logger = logging.getLogger("job_dispatcher")
logger.setLevel(logging.INFO)

# The API's answers that mean "nothing to submit": acknowledge the message.
GONE = 404
NOT_DISPATCHABLE = 409
BATCH_JOB_NAME_MAX = 128
_NOT_IN_JOB_NAME = re.compile(r"[^A-Za-z0-9_-]")


class MalformedMessage(ValueError):
    pass


@dataclass(frozen=True)
class DispatcherConfig:
    api_url: str
    job_queues: dict[str, str]
    job_definition: str
    # The array children's definition (its own retry rules); the whole job's when unset.
    segment_job_definition: str = ""

    @classmethod
    def from_env(cls) -> DispatcherConfig:
        return cls(
            api_url=require_env("REFRAMER_API_URL"),
            job_queues={
                "standard": require_env("BATCH_JOB_QUEUE_STANDARD"),
                "priority": require_env("BATCH_JOB_QUEUE_PRIORITY"),
            },
            job_definition=require_env("BATCH_JOB_DEFINITION"),
            segment_job_definition=os.environ.get("BATCH_SEGMENT_JOB_DEFINITION", ""),
        )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = sqs_records(event)
    if not records:
        return batch_response([])
    config = DispatcherConfig.from_env()
    # A session of its own: boto3's default session is not safe to share between threads.
    batch = boto3.session.Session().client("batch")
    failed: list[str] = []
    stopped_groups: set[str] = set()
    with InternalApi(config.api_url, service_token(DISPATCHER_TOKEN_VARIABLE)) as api:
        for record in records:
            group = record.message_group_id
            if group is not None and group in stopped_groups:
                # An earlier message of this group failed: this one must wait behind it.
                failed.append(record.message_id)
                continue
            if not _process(record, config, api, batch):
                failed.append(record.message_id)
                if group is not None:
                    stopped_groups.add(group)
    return batch_response(failed)


def _process(record: SqsRecord, config: DispatcherConfig, api: InternalApi, batch: Any) -> bool:
    """Handles one message; True when it is finished with (delete), False to keep it."""
    try:
        _dispatch(record, config, api, batch)
    except Exception:
        # Malformed, the API or Batch away: the message comes back after its visibility
        # timeout, and the queue's redrive policy sends one that keeps failing to the DLQ.
        logger.exception("job message failed", extra={"message_id": record.message_id})
        return False
    return True


def job_id_of(record: SqsRecord) -> str:
    try:
        return str(JobMessage.model_validate_json(record.body).job_id)
    except ValidationError as exc:
        raise MalformedMessage(f"not a job message: {record.body[:200]!r}") from exc


def batch_job_name(job_id: str) -> str:
    """Batch job names: letters, digits, hyphens and underscores, at most 128."""
    return _NOT_IN_JOB_NAME.sub("_", f"reframer-{job_id}")[:BATCH_JOB_NAME_MAX]


def traceparent_of(record: SqsRecord) -> str | None:
    attribute = record.message_attributes.get("traceparent")
    if isinstance(attribute, dict):
        value = attribute.get("stringValue")
        return str(value) if value else None
    return None


def submit_job_request(
    spec: DispatchSpec,
    config: DispatcherConfig,
    traceparent: str | None,
    step: dict[str, str] | None = None,
) -> SubmitJobRequestTypeDef:
    job_id = str(spec.job_id)
    if spec.batch_queue not in config.job_queues:
        raise ValueError(f"the API chose an unknown Batch queue {spec.batch_queue!r}")
    environment = {
        "JOB_ID": job_id,
        "INPUT_URI": spec.input_uri,
        "OUTPUT_PREFIX": spec.output_prefix,
        "OPTIONS": json.dumps(spec.options.model_dump(mode="json"), separators=(",", ":")),
        "MAX_SOURCE_SECONDS": str(spec.max_source_seconds),
        "CALLBACK_URL": spec.callback_url,
        "CALLBACK_TOKEN": spec.callback_token,
    }
    if traceparent:
        environment["TRACEPARENT"] = traceparent
    environment |= step or {}
    # No retryStrategy and no timeout: the job definition's (the template's) apply.
    return {
        "jobName": batch_job_name(job_id),
        "jobQueue": config.job_queues[spec.batch_queue],
        "jobDefinition": config.job_definition,
        "containerOverrides": {
            "environment": [{"name": k, "value": v} for k, v in environment.items()]
        },
    }


def split_children(spec: DispatchSpec) -> int | None:
    """The array's size when the source renders in segments, None for one container."""
    split, declared = spec.render_split, spec.source_seconds
    if split is None or declared is None or declared <= split.threshold_seconds:
        return None
    return max(2, min(split.max_children, math.ceil(declared / split.segment_seconds)))


def split_requests(
    spec: DispatchSpec, config: DispatcherConfig, traceparent: str | None, children: int
) -> list[SubmitJobRequestTypeDef]:
    """The analysis, the array of `children` and the join, in order; dependencies are filled
    in with the ids Batch gives (`submit`)."""
    assert spec.render_split is not None
    steps = {
        "analyse": {
            "RENDER_STEP": "analyse",
            "RENDER_CHILDREN": str(children),
            "SEGMENT_SECONDS": str(spec.render_split.segment_seconds),
        },
        "segments": {"RENDER_STEP": "segment", "RENDER_CHILDREN": str(children)},
        "join": {"RENDER_STEP": "join"},
    }
    requests = []
    for name, variables in steps.items():
        request = submit_job_request(spec, config, traceparent, variables)
        request["jobName"] = batch_job_name(f"{spec.job_id}-{name}")
        if name == "segments":
            request["arrayProperties"] = {"size": children}
            request["jobDefinition"] = config.segment_job_definition or config.job_definition
        requests.append(request)
    return requests


def submit(
    spec: DispatchSpec, config: DispatcherConfig, traceparent: str | None, batch: BatchClient
) -> str:
    """Submit the job's Batch job(s); returns the id of the one whose container starts it."""
    children = split_children(spec)
    if children is None:
        return batch.submit_job(**submit_job_request(spec, config, traceparent))["jobId"]
    analyse, segments, join = split_requests(spec, config, traceparent, children)
    first = batch.submit_job(**analyse)["jobId"]
    # A plain dependency: every child waits for the analysis, the join for every child.
    segments["dependsOn"] = [{"jobId": first}]
    array = batch.submit_job(**segments)["jobId"]
    join["dependsOn"] = [{"jobId": array}]
    joined = batch.submit_job(**join)["jobId"]
    logger.info(
        "split render submitted",
        extra={"job_id": str(spec.job_id), "children": children, "array": array, "join": joined},
    )
    return first


def _dispatch(
    record: SqsRecord, config: DispatcherConfig, api: InternalApi, batch: BatchClient
) -> None:
    job_id = job_id_of(record)
    try:
        spec = api.post(f"/internal/jobs/{job_id}/dispatch", None, DispatchSpec)
    except ApiError as exc:
        if exc.status in (GONE, NOT_DISPATCHABLE):
            logger.info(
                "job not dispatched",
                extra={"job_id": job_id, "code": exc.code, "detail": exc.detail},
            )
            return
        raise
    batch_job_id = submit(spec, config, traceparent_of(record), batch)
    try:
        api.post(
            f"/internal/jobs/{job_id}/submitted",
            BatchJobReport(batch_job_id=batch_job_id),
            JobState,
        )
    except ApiError as exc:
        if exc.status == NOT_DISPATCHABLE:
            # Another copy of this message submitted the job first, or it was canceled
            # meanwhile: this Batch job is surplus, and its container's callbacks are refused
            # (its token was replaced, or the job is final). Retrying would not change that.
            logger.warning(
                "surplus Batch job",
                extra={"job_id": job_id, "batch_job_id": batch_job_id, "code": exc.code},
            )
            return
        raise
    logger.info(
        "job submitted",
        extra={"job_id": job_id, "batch_job_id": batch_job_id, "queue": spec.batch_queue},
    )
