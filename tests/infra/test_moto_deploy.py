"""The SAM-translated template deployed into moto server, and its outputs put to work.

moto creates what it models (network, queues, bucket, database, ECS, load balancer, Batch,
Lambdas and their SQS event sources, IAM, KMS, logs, SNS) and passes over what it does not
(alarms, Secrets Manager, ElastiCache, autoscaling), so this proves the template deploys as a
whole and that its outputs are the working queues and bucket the services are given.
"""

from __future__ import annotations

import copy
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import trustme
from botocore.exceptions import ClientError

from devstack.moto_server import MotoServer
from tests.infra.checkers import REPO
from tests.infra.conftest import ARTIFACTS_BUCKET, LAMBDA_PACKAGE_KEY, load_parameters

REGION = "us-east-1"
pytestmark = [
    pytest.mark.slow,
    # moto names each resource type it passes over (see the docstring): expected, not news.
    pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning"),
]


@dataclass
class Deployment:
    clients: dict[str, Any]
    stack_name: str
    prefix: str
    outputs: dict[str, str]
    certificate_arn: str

    def client(self, service: str) -> Any:
        return self.clients[service]


def certificate_for(domain: str) -> tuple[bytes, bytes]:
    """A certificate for `domain` and its private key, as an operator imports into ACM."""
    leaf = trustme.CA().issue_cert(domain)
    return leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes()


def lambda_package() -> bytes:
    """What infra/build-lambda.sh uploads, less the third-party wheels moto never runs (the
    package as built, wheels included, runs in tests/lambdas/test_built_package.py)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for folder in ("lambdas", "contracts"):
            for path in sorted((REPO / folder).rglob("*.py")):
                package.write(path, path.relative_to(REPO).as_posix())
    return buffer.getvalue()


def create_stack(cloudformation: Any, name: str, template: dict[str, Any], parameters: dict) -> Any:
    return cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )


def deploy_parameters(
    environment: dict[str, str], prefix: str, certificate_arn: str
) -> dict[str, str]:
    """An environment's parameter file plus what deploy.sh is given on its command line."""
    tags = dict.fromkeys(("ApiImageTag", "MigrationImageTag", "BatchImageTag"), "smoke")
    return {**environment, **tags, "ResourcePrefix": prefix, "CertificateArn": certificate_arn}


@pytest.fixture(scope="module")
def staging_parameters() -> dict[str, str]:
    return load_parameters("staging")


@pytest.fixture(scope="module")
def deployment(
    moto_server: MotoServer, template: dict[str, Any], staging_parameters: dict[str, str]
) -> Deployment:
    clients = {
        service: boto3.client(service, endpoint_url=moto_server.endpoint_url, region_name=REGION)
        for service in ("acm", "s3", "sqs", "cloudformation", "lambda", "batch", "ecs", "elbv2")
    }
    # What an operator has before the first deploy: a certificate and the packaged Lambda code.
    certificate, private_key = certificate_for(staging_parameters["ApiDomainName"])
    certificate_arn = clients["acm"].import_certificate(
        Certificate=certificate, PrivateKey=private_key
    )["CertificateArn"]
    clients["s3"].create_bucket(Bucket=ARTIFACTS_BUCKET)
    clients["s3"].put_object(Bucket=ARTIFACTS_BUCKET, Key=LAMBDA_PACKAGE_KEY, Body=lambda_package())

    prefix = f"smoke-{uuid.uuid4().hex[:8]}"
    stack_name = f"{prefix}-stack"
    parameters = deploy_parameters(staging_parameters, prefix, certificate_arn)
    create_stack(clients["cloudformation"], stack_name, template, parameters)
    (stack,) = clients["cloudformation"].describe_stacks(StackName=stack_name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    # Left in place: moto cannot take a VPC apart in dependency order, and the stack's unique
    # prefix keeps it out of every other test's way until the session's moto server stops.
    return Deployment(clients, stack_name, prefix, outputs, certificate_arn)


def test_the_stack_deploys_with_every_output(deployment: Deployment, template):
    assert set(deployment.outputs) == set(template["Outputs"])
    assert deployment.outputs["MediaBucketName"].startswith(f"{deployment.prefix}-media-")
    assert deployment.outputs["JobsQueueUrl"].endswith(f"/{deployment.prefix}-jobs.fifo")


def test_the_jobs_queue_takes_a_job_message_once_per_job(deployment: Deployment):
    sqs = deployment.client("sqs")
    queue_url = deployment.outputs["JobsQueueUrl"]
    job_id, account_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = json.dumps({"job_id": job_id, "account_id": account_id})
    for _ in range(2):  # the outbox relay may publish twice; the job id deduplicates
        sqs.send_message(
            QueueUrl=queue_url, MessageBody=body, MessageGroupId=account_id,
            MessageDeduplicationId=job_id,
        )  # fmt: skip
    received = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    assert [m["Body"] for m in received] == [body]
    assert received[0]["Attributes"]["MessageGroupId"] == account_id
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=received[0]["ReceiptHandle"])
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith(
        f":{deployment.prefix}-jobs-dlq.fifo"
    )


def test_the_webhooks_queue_round_trips_a_delivery(deployment: Deployment):
    sqs = deployment.client("sqs")
    queue_url = deployment.outputs["WebhooksQueueUrl"]
    body = json.dumps({"delivery_id": str(uuid.uuid4())})
    sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    (message,) = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert message["Body"] == body
    # The delivery Lambda paces retries this way.
    sqs.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=5
    )
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    for dead_letters in ("JobsDeadLetterQueueUrl", "WebhooksDeadLetterQueueUrl"):
        queue = deployment.outputs[dead_letters]
        assert sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])


def test_the_bucket_keeps_an_upload_encrypted_with_the_stack_key(deployment: Deployment):
    s3 = deployment.client("s3")
    bucket = deployment.outputs["MediaBucketName"]
    s3.put_object(Bucket=bucket, Key="uploads/job/source.mp4", Body=b"\x00" * 1024)
    head = s3.head_object(Bucket=bucket, Key="uploads/job/source.mp4")
    assert head["ContentLength"] == 1024
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_the_lambdas_are_wired_to_their_queues(deployment: Deployment):
    functions = deployment.client("lambda")
    sources = {
        m["EventSourceArn"].rsplit(":", 1)[-1]: m
        for m in functions.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"].split(":function:")[-1].startswith(deployment.prefix)
    }
    assert set(sources) == {f"{deployment.prefix}-jobs.fifo", f"{deployment.prefix}-webhooks"}
    for mapping in sources.values():
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    dispatcher = functions.get_function(FunctionName=f"{deployment.prefix}-job-dispatcher")
    variables = dispatcher["Configuration"]["Environment"]["Variables"]
    assert variables["BATCH_JOB_QUEUE_STANDARD"] == deployment.outputs["StandardJobQueueArn"]
    assert variables["BATCH_JOB_QUEUE_PRIORITY"] == deployment.outputs["PriorityJobQueueArn"]
    assert variables["BATCH_JOB_DEFINITION"] == deployment.outputs["ReframerJobDefinitionArn"]
    delivery = functions.get_function(FunctionName=f"{deployment.prefix}-webhook-delivery")
    assert (
        delivery["Configuration"]["Environment"]["Variables"]["WEBHOOKS_QUEUE_URL"]
        == (deployment.outputs["WebhooksQueueUrl"])
    )


def test_batch_has_its_queues_environments_and_job_definition(deployment: Deployment):
    batch = deployment.client("batch")
    arns = [deployment.outputs["StandardJobQueueArn"], deployment.outputs["PriorityJobQueueArn"]]
    queues = batch.describe_job_queues(jobQueues=arns)["jobQueues"]
    assert sorted(q["jobQueueName"] for q in queues) == [
        f"{deployment.prefix}-priority",
        f"{deployment.prefix}-standard",
    ]
    (definition,) = batch.describe_job_definitions(
        jobDefinitions=[deployment.outputs["ReframerJobDefinitionArn"]]
    )["jobDefinitions"]
    assert definition["retryStrategy"]["attempts"] == 3
    assert definition["containerProperties"]["image"].endswith(f"/{deployment.prefix}-batch:smoke")


def test_the_api_service_sits_behind_https_and_a_redirect(deployment: Deployment):
    ecs, elbv2 = deployment.client("ecs"), deployment.client("elbv2")
    (service,) = ecs.describe_services(
        cluster=deployment.outputs["ClusterName"], services=[deployment.outputs["ApiServiceName"]]
    )["services"]
    assert service["desiredCount"] == 1
    (balancer,) = elbv2.describe_load_balancers(Names=[f"{deployment.prefix}-api"])["LoadBalancers"]
    listeners = {
        listener["Port"]: listener
        for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
            "Listeners"
        ]
    }
    assert listeners[443]["Certificates"][0]["CertificateArn"] == deployment.certificate_arn
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    migration = ecs.describe_task_definition(
        taskDefinition=deployment.outputs["MigrationTaskDefinitionArn"]
    )["taskDefinition"]
    assert migration["containerDefinitions"][0]["command"] == ["alembic", "upgrade", "head"]


def test_a_standard_dlq_behind_the_fifo_queue_does_not_deploy(
    deployment: Deployment, template: dict[str, Any], staging_parameters: dict[str, str]
):
    broken = copy.deepcopy(template)
    dead_letters = broken["Resources"]["JobsDeadLetterQueue"]["Properties"]
    del dead_letters["FifoQueue"]
    dead_letters["QueueName"] = {"Fn::Sub": "${ResourcePrefix}-jobs-dlq"}
    prefix = f"broken-{uuid.uuid4().hex[:8]}"
    parameters = deploy_parameters(staging_parameters, prefix, deployment.certificate_arn)
    with pytest.raises(ClientError, match="non fifo dead letter"):
        create_stack(deployment.client("cloudformation"), f"{prefix}-stack", broken, parameters)
