"""The job_dispatcher handler on genuine SQS events from moto's FIFO queue, against the API
over real HTTP and the local Batch runner (which really starts each container)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import boto3
import pytest
from fastapi import FastAPI

from app.db.models import Job
from app.domain.plans import PlanName
from devstack.batch_runner import LocalBatch, LocalBatchJob
from devstack.lambda_runners import (
    LOCAL_BATCH_JOB_DEFINITION,
    LOCAL_BATCH_JOB_QUEUE_PRIORITY,
    LOCAL_BATCH_JOB_QUEUE_STANDARD,
)
from devstack.moto_server import free_port
from devstack.provision import LocalAws
from devstack.sqs_poller import LocalLambdaContext, lambda_record
from lambdas.job_dispatcher.handler import batch_job_name, handler
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory

pytestmark = pytest.mark.usefixtures("dispatcher_env")

MAX_RECEIVES = 5


async def receive_event(app: FastAPI, aws: LocalAws, expected: int) -> dict[str, Any]:
    """What Lambda's event source mapping hands the function: the queue's messages, in order."""
    sqs = app.state.aws.sqs
    attributes = await sqs.get_queue_attributes(
        QueueUrl=aws.jobs_queue_url, AttributeNames=["QueueArn"]
    )
    arn = attributes["Attributes"]["QueueArn"]
    messages: list[dict[str, Any]] = []
    for _ in range(MAX_RECEIVES):
        response = await sqs.receive_message(
            QueueUrl=aws.jobs_queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages.extend(response.get("Messages", []))
        if len(messages) >= expected:
            break
    assert len(messages) == expected, messages
    return {"Records": [lambda_record(m, arn, "us-east-1") for m in messages]}


async def invoke(event: dict[str, Any]) -> list[str]:
    """Calls the handler as Lambda would (off the loop that serves the API); the ids it wants
    kept on the queue."""
    response = await asyncio.to_thread(handler, event, LocalLambdaContext("job_dispatcher", 60))
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def submitted_jobs(batch: LocalBatch) -> dict[str, list[LocalBatchJob]]:
    """Batch submissions by Reframer job id."""
    by_job: dict[str, list[LocalBatchJob]] = {}
    for submission in batch.submissions():
        by_job.setdefault(submission.environment["JOB_ID"], []).append(submission)
    return by_job


async def batch_job_id_of(app: FastAPI, job_id: str) -> str | None:
    async with app.state.sessionmaker() as session:
        job = await session.get(Job, uuid.UUID(job_id))
        assert job is not None
        return job.batch_job_id


async def test_a_queued_job_becomes_a_batch_job_on_its_plans_queue_with_its_spec(
    jobs: JobDriver, users: UserFactory, app: FastAPI, aws: LocalAws, local_batch: LocalBatch
) -> None:
    free_user = await users.create()
    business = await users.create(plan=PlanName.BUSINESS)
    standard_job = await jobs.queued(free_user)
    priority_job = await jobs.queued(business)
    assert await jobs.relay() == 2

    assert await invoke(await receive_event(app, aws, 2)) == []

    submitted = submitted_jobs(local_batch)
    assert sorted(submitted) == sorted([standard_job, priority_job])
    assert submitted[priority_job][0].job_queue == LOCAL_BATCH_JOB_QUEUE_PRIORITY
    standard = submitted[standard_job][0]
    assert standard.job_queue == LOCAL_BATCH_JOB_QUEUE_STANDARD
    assert standard.job_name == batch_job_name(standard_job)
    assert standard.job_definition == LOCAL_BATCH_JOB_DEFINITION
    env = standard.environment
    assert env["INPUT_URI"].startswith(f"s3://{aws.bucket}/")
    assert env["OUTPUT_PREFIX"] == f"s3://{aws.bucket}/outputs/{standard_job}/"
    assert json.loads(env["OPTIONS"]) == {"aspect_ratio": "9:16", "resolution": "720p"}
    # The plan's longest source travels with the job: the container refuses a longer one.
    assert env["MAX_SOURCE_SECONDS"] == "120"
    assert env["CALLBACK_URL"].endswith(f"/internal/jobs/{standard_job}")
    assert env["AWS_BATCH_JOB_ID"] == standard.job_id
    # The token the container holds is the one the API accepts for this job.
    token_check = await jobs.client.post(
        f"/internal/jobs/{standard_job}/progress",
        json={"stage": "probe", "percent": 1},
        headers={"Authorization": f"Bearer {env['CALLBACK_TOKEN']}"},
    )
    assert token_check.status_code in {200, 409}, token_check.text
    for job_id, [batch_job] in submitted.items():
        assert await batch_job_id_of(app, job_id) == batch_job.job_id


async def test_a_poison_record_fails_alone_with_the_later_records_of_its_group(
    jobs: JobDriver, users: UserFactory, app: FastAPI, aws: LocalAws, local_batch: LocalBatch
) -> None:
    alice = await users.create(plan=PlanName.PRO)
    bob = await users.create(plan=PlanName.PRO)
    bobs_job = await jobs.queued(bob)
    assert await jobs.relay() == 1
    # Alice's group starts with a message the dispatcher cannot read, then two real jobs.
    await app.state.aws.sqs.send_message(
        QueueUrl=aws.jobs_queue_url,
        MessageBody="{not json",
        MessageGroupId=str(alice.id),
        MessageDeduplicationId="poison-1",
    )
    alices_jobs = [await jobs.queued(alice), await jobs.queued(alice)]
    assert await jobs.relay() == 2

    event = await receive_event(app, aws, 4)
    bodies = [record["body"] for record in event["Records"]]
    alice_ids = [
        r["messageId"]
        for r in event["Records"]
        if r["attributes"]["MessageGroupId"] == str(alice.id)
    ]
    assert len(alice_ids) == 3
    assert "{not json" in bodies

    failed = await invoke(event)

    assert failed == alice_ids  # the poison and its followers, in order
    assert sorted(submitted_jobs(local_batch)) == [bobs_job]
    for job_id in alices_jobs:
        assert (await jobs.get(alice, job_id))["status"] == "queued"
        assert await batch_job_id_of(app, job_id) is None


async def test_a_record_the_api_cannot_answer_fails_without_a_batch_job(
    jobs: JobDriver,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    local_batch: LocalBatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = await users.create()
    job_id = await jobs.queued(user)
    assert await jobs.relay() == 1
    event = await receive_event(app, aws, 1)
    # The API is away (nothing listens there): the message stays for a later try.
    monkeypatch.setenv("REFRAMER_API_URL", f"http://127.0.0.1:{free_port()}")

    assert await invoke(event) == [event["Records"][0]["messageId"]]
    assert local_batch.submissions() == []
    assert (await jobs.get(user, job_id))["status"] == "queued"


async def test_a_duplicate_delivery_makes_one_batch_job(
    jobs: JobDriver, users: UserFactory, app: FastAPI, aws: LocalAws, local_batch: LocalBatch
) -> None:
    user = await users.create()
    job_id = await jobs.queued(user)
    assert await jobs.relay() == 1
    event = await receive_event(app, aws, 1)

    assert await invoke(event) == []
    assert await invoke(event) == []  # SQS delivered the same message again
    # And a copy of it within one batch.
    assert await invoke({"Records": event["Records"] * 2}) == []

    assert [j.job_id for j in submitted_jobs(local_batch)[job_id]] == [
        await batch_job_id_of(app, job_id)
    ]
    assert len(local_batch.submissions()) == 1
    # The local Batch answers DescribeJobs like Batch, for a developer's `aws batch` call.
    batch_client = boto3.session.Session().client("batch")
    [described] = batch_client.describe_jobs(jobs=[local_batch.submissions()[0].job_id])["jobs"]
    assert described["jobName"] == batch_job_name(job_id)
    assert described["status"] in {"RUNNING", "SUCCEEDED", "FAILED"}


async def test_a_job_that_is_gone_or_was_never_confirmed_is_acknowledged(
    jobs: JobDriver, users: UserFactory, app: FastAPI, aws: LocalAws, local_batch: LocalBatch
) -> None:
    user = await users.create()
    unconfirmed = (await jobs.create(user))["job"]["id"]
    for index, job_id in enumerate([unconfirmed, str(uuid.uuid4())]):
        await app.state.aws.sqs.send_message(
            QueueUrl=aws.jobs_queue_url,
            MessageBody=json.dumps({"job_id": job_id, "account_id": str(user.id)}),
            MessageGroupId=str(user.id),
            MessageDeduplicationId=f"stray-{index}",
        )

    assert await invoke(await receive_event(app, aws, 2)) == []
    assert local_batch.submissions() == []
