"""What the stack must hold, read from the SAM-translated template (plain CloudFormation)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from app.config import Settings
from batch.reframer.storage import WORK_TAG
from contracts.dispatch import DispatchSpec
from devstack import provision
from lambdas.job_dispatcher.handler import DispatcherConfig, submit_job_request
from tests.infra import rules
from tests.infra.conftest import load_parameters

pytestmark = pytest.mark.slow  # waits for the checkers in .venv-tools

ENVIRONMENTS = ["staging", "production"]
IMAGE_TAGS = {"ApiImageTag", "MigrationImageTag", "BatchImageTag"}
# Names other branches add to Settings (fixed across the team); the rest must be fields already.
TEAM_SETTINGS = {
    "REFRAMER_RATE_LIMIT_STORAGE_URI",
    "REFRAMER_TRUSTED_PROXY_HOPS",
    "REFRAMER_STRIPE_SECRET_KEY",
    "REFRAMER_STRIPE_WEBHOOK_SECRET",
    "REFRAMER_STRIPE_PRICE_PRO",
    "REFRAMER_STRIPE_PRICE_BUSINESS",
    "REFRAMER_SMTP_HOST",
    "REFRAMER_SMTP_PORT",
    "REFRAMER_SMTP_USERNAME",
    "REFRAMER_SMTP_PASSWORD",
    "REFRAMER_SMTP_STARTTLS",
    "REFRAMER_EMAIL_FROM",
    "REFRAMER_CALLBACK_BASE_URL",
    "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS",
}
SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "DATABASE_URL", "STORAGE_URI")
# The API may presign and head objects in its bucket (and list and abort multipart uploads
# there) and send to its queues, nothing more.
API_ACTIONS = {
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
    "kms:GenerateDataKey",
    "kms:Decrypt",
    "sqs:SendMessage",
    "sqs:GetQueueAttributes",
}


def properties(resources: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = resources[name]["Properties"]
    return found


# ------------------------------------------------------------------ queues and Lambdas


def test_every_sqs_event_source_reports_item_failures_and_fits_its_queue(resources):
    mappings = rules.of_type(resources, "AWS::Lambda::EventSourceMapping")
    assert {rules.referenced(m["Properties"]["EventSourceArn"]) for m in mappings.values()} == {
        "JobsQueue",
        "WebhooksQueue",
    }
    assert rules.sqs_event_source_problems(resources) == []


def test_a_short_visibility_or_missing_item_failures_is_reported(resources):
    broken = copy.deepcopy(resources)
    broken["JobsQueue"]["Properties"]["VisibilityTimeout"] = 60
    hooks_source = next(
        m
        for m in rules.of_type(broken, "AWS::Lambda::EventSourceMapping").values()
        if rules.referenced(m["Properties"]["EventSourceArn"]) == "WebhooksQueue"
    )
    del hooks_source["Properties"]["FunctionResponseTypes"]
    problems = rules.sqs_event_source_problems(broken)
    assert len(problems) == 2
    assert any(p.startswith("JobsQueue: visibility 60s") for p in problems)
    assert any("ReportBatchItemFailures" in p for p in problems)


def test_queues_match_the_names_and_redrive_the_service_expects(resources):
    production = {"ResourcePrefix": "reframer"}
    queues = ("JobsQueue", "JobsDeadLetterQueue", "WebhooksQueue", "WebhooksDeadLetterQueue")
    names = {q: rules.render(properties(resources, q)["QueueName"], production) for q in queues}
    assert names == {
        "JobsQueue": provision.JOBS_QUEUE,
        "JobsDeadLetterQueue": provision.JOBS_DLQ,
        "WebhooksQueue": provision.WEBHOOKS_QUEUE,
        "WebhooksDeadLetterQueue": provision.WEBHOOKS_DLQ,
    }
    jobs, hooks = properties(resources, "JobsQueue"), properties(resources, "WebhooksQueue")
    assert jobs["FifoQueue"] is True
    assert jobs["ContentBasedDeduplication"] is False  # the outbox sends the job id
    assert jobs["RedrivePolicy"]["maxReceiveCount"] == provision.JOBS_MAX_RECEIVES
    assert hooks["RedrivePolicy"]["maxReceiveCount"] == provision.WEBHOOKS_MAX_RECEIVES
    assert rules.referenced(jobs["RedrivePolicy"]["deadLetterTargetArn"]) == "JobsDeadLetterQueue"
    assert rules.referenced(hooks["RedrivePolicy"]["deadLetterTargetArn"]) == (
        "WebhooksDeadLetterQueue"
    )


def test_lambdas_run_the_agreed_handlers_with_the_agreed_environment(resources):
    dispatcher = properties(resources, "JobDispatcherFunction")
    delivery = properties(resources, "WebhookDeliveryFunction")
    assert dispatcher["Handler"] == "lambdas/job_dispatcher/handler.handler"
    assert delivery["Handler"] == "lambdas/webhook_delivery/handler.handler"
    assert set(dispatcher["Environment"]["Variables"]) == {
        "REFRAMER_API_URL",
        "REFRAMER_SERVICE_TOKEN_SECRET_ARN",
        "BATCH_JOB_QUEUE_STANDARD",
        "BATCH_JOB_QUEUE_PRIORITY",
        "BATCH_JOB_DEFINITION",
        "BATCH_SEGMENT_JOB_DEFINITION",
    }
    assert rules.referenced(
        dispatcher["Environment"]["Variables"]["BATCH_SEGMENT_JOB_DEFINITION"]
    ) == ("ReframerSegmentJobDefinition")
    assert set(delivery["Environment"]["Variables"]) == {
        "REFRAMER_API_URL",
        "REFRAMER_WEBHOOK_SERVICE_TOKEN_SECRET_ARN",
        "WEBHOOKS_QUEUE_URL",
        "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS",
    }


def test_each_lambda_reads_only_its_own_service_token(resources):
    """The webhook sender talks to customers' servers: a token of its own, which the API
    accepts on the webhook routes only (tests/jobs/test_internal.py), and vice versa."""
    readable = {}
    for function, role in (
        ("JobDispatcherFunction", "JobDispatcherRole"),
        ("WebhookDeliveryFunction", "WebhookDeliveryRole"),
    ):
        granted = rules.allowed_actions(resources[role])["secretsmanager:GetSecretValue"]
        readable[function] = {rules.referenced(resource) for resource in granted}
    assert readable == {
        "JobDispatcherFunction": {"ServiceTokenSecret"},
        "WebhookDeliveryFunction": {"WebhookServiceTokenSecret"},
    }
    webhook_env = properties(resources, "WebhookDeliveryFunction")["Environment"]["Variables"]
    assert rules.referenced(webhook_env["REFRAMER_WEBHOOK_SERVICE_TOKEN_SECRET_ARN"]) == (
        "WebhookServiceTokenSecret"
    )


def test_the_job_definition_is_the_one_source_of_batch_retries_and_timeout(resources):
    """The dispatcher's submissions override neither (an override would replace the template's
    rules on AWS): what the template says is what runs."""
    spec = DispatchSpec.model_validate(
        {
            "job_id": "01a20203-21a0-7767-9057-2324a50b19b1",
            "account_id": "01a20203-21a0-7767-9057-2324a50b19b2",
            "plan": "pro",
            "input_uri": "s3://media/uploads/x/source",
            "output_prefix": "s3://media/outputs/x/",
            "options": {"aspect_ratio": "9:16", "resolution": "720p"},
            "max_source_seconds": 1800,
            "batch_queue": "standard",
            "callback_url": "https://api.example.com/internal/jobs/x",
            "callback_token": "cbt",
        }
    )
    config = DispatcherConfig(
        api_url="https://api.example.com", job_queues={"standard": "q"}, job_definition="d"
    )
    request = submit_job_request(spec, config, None)
    assert not {"retryStrategy", "timeout"} & set(request)

    job = properties(resources, "ReframerJobDefinition")
    assert job["Timeout"] == {"AttemptDurationSeconds": {"Ref": "BatchJobTimeoutSeconds"}}
    on_exit = job["RetryStrategy"]["EvaluateOnExit"]
    assert len(on_exit) <= 5  # Batch's limit
    # Lost or unstartable infrastructure is retried: EC2 host, Fargate Spot, image pull,
    # ENI/secrets setup; everything else (the pipeline reported its own failure) is final.
    assert on_exit[:-1] == [
        {"OnStatusReason": "Host EC2*", "Action": "RETRY"},
        {"OnStatusReason": "Your Spot Task was interrupted*", "Action": "RETRY"},
        {"OnReason": "CannotPullContainerError*", "Action": "RETRY"},
        {"OnReason": "ResourceInitializationError*", "Action": "RETRY"},
    ]
    assert on_exit[-1] == {"OnReason": "*", "Action": "EXIT"}


# ------------------------------------------------------------------ least privilege


def test_no_role_allows_a_whole_service_or_every_resource(resources):
    assert rules.iam_wildcard_problems(resources) == []


def test_a_wildcard_grant_is_reported(resources):
    broken = copy.deepcopy(resources)
    statement = rules.statements(broken["BatchJobRole"])[0]
    statement["Action"] = "s3:*"
    statement["Resource"] = "*"
    assert rules.iam_wildcard_problems(broken) == [
        "BatchJobRole: allows s3:*",
        "BatchJobRole: allows ['s3:*'] on every resource",
    ]


def test_the_api_presigns_heads_manages_multipart_uploads_and_sends_and_nothing_more(resources):
    allowed = rules.allowed_actions(resources["ApiTaskRole"])
    assert set(allowed) == API_ACTIONS
    assert allowed["s3:PutObject"] == [{"Fn::Sub": "${MediaBucket.Arn}/uploads/*"}]
    for multipart in ("s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"):
        assert allowed[multipart] == [{"Fn::Sub": "${MediaBucket.Arn}/uploads/*"}]
    assert sorted(r["Fn::Sub"] for r in allowed["s3:GetObject"]) == [
        "${MediaBucket.Arn}/outputs/*",
        "${MediaBucket.Arn}/uploads/*",
    ]
    assert {rules.referenced(r) for r in allowed["sqs:SendMessage"]} == {
        "JobsQueue",
        "WebhooksQueue",
    }


def test_the_webhook_lambda_may_pace_retries_on_its_queue_only(resources):
    allowed = rules.allowed_actions(resources["WebhookDeliveryRole"])
    assert [rules.referenced(r) for r in allowed["sqs:ChangeMessageVisibility"]] == [
        "WebhooksQueue"
    ]
    assert "sqs:ChangeMessageVisibility" not in rules.allowed_actions(
        resources["JobDispatcherRole"]
    )


def test_batch_containers_read_uploads_and_write_outputs_only(resources):
    """And read back a split render's work files (plan, audio, segments), nothing else."""
    allowed = rules.allowed_actions(resources["BatchJobRole"])
    assert allowed["s3:GetObject"] == [
        {"Fn::Sub": "${MediaBucket.Arn}/uploads/*"},
        {"Fn::Sub": "${MediaBucket.Arn}/outputs/*/render-work/*"},
    ]
    assert allowed["s3:PutObject"] == [{"Fn::Sub": "${MediaBucket.Arn}/outputs/*"}]
    assert allowed["s3:PutObjectTagging"] == [
        {"Fn::Sub": "${MediaBucket.Arn}/outputs/*/render-work/*"}
    ]
    assert allowed["s3:ListBucket"] == [{"Fn::GetAtt": ["MediaBucket", "Arn"]}]


def test_the_migration_task_gets_the_database_url_and_no_aws_role(resources):
    migration = properties(resources, "MigrationTaskDefinition")
    assert "TaskRoleArn" not in migration
    environment, secrets = rules.container_settings(resources["MigrationTaskDefinition"])
    assert environment == {}
    assert secrets == {"REFRAMER_DATABASE_URL": {"Ref": "DatabaseUrlSecret"}}
    (container,) = migration["ContainerDefinitions"]
    assert container["Command"] == ["alembic", "upgrade", "head"]


# ------------------------------------------------------------------ the API's configuration


def test_api_settings_are_known_names_and_secrets_come_from_secrets_manager(resources):
    environment, secrets = rules.container_settings(resources["ApiTaskDefinition"])
    fields = {f"REFRAMER_{name.upper()}" for name in Settings.model_fields}
    for name in {*environment, *secrets} - {"WEB_CONCURRENCY"}:
        assert name in fields | TEAM_SETTINGS, f"{name} is not a setting"
    leaked = [name for name in environment if any(word in name for word in SECRET_WORDS)]
    assert leaked == [], "secrets belong in the task definition's Secrets"
    assert {
        "REFRAMER_DATABASE_URL",
        "REFRAMER_JWT_SECRET",
        "REFRAMER_SECRET_KEY",
        "REFRAMER_SERVICE_TOKEN",
        "REFRAMER_WEBHOOK_SERVICE_TOKEN",
        "REFRAMER_STRIPE_SECRET_KEY",
        "REFRAMER_STRIPE_WEBHOOK_SECRET",
        "REFRAMER_SMTP_PASSWORD",
        "REFRAMER_RATE_LIMIT_STORAGE_URI",
    } == set(secrets)


@pytest.mark.parametrize("environment_name", ENVIRONMENTS)
def test_the_api_task_environment_passes_the_production_settings_check(
    resources, environment_name, monkeypatch
):
    parameters = load_parameters(environment_name)
    environment, secrets = rules.container_settings(resources["ApiTaskDefinition"])
    for name, value in environment.items():
        monkeypatch.setenv(name, rules.render(value, parameters))
    for name in secrets:
        monkeypatch.setenv(name, f"{name.lower()}-stand-in-{'x' * 40}")
    monkeypatch.setenv(
        "REFRAMER_DATABASE_URL", "postgresql+asyncpg://reframer:pw@db:5432/reframer?ssl=require"
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.is_production
    assert settings.cors_origins == [parameters["SpaOrigin"]]
    assert settings.s3_bucket == "<MediaBucket>"
    assert settings.jobs_queue_url == "<JobsQueue>"


def test_the_database_url_is_asyncpg_over_tls_to_the_instance(resources):
    secret_string = properties(resources, "DatabaseUrlSecret")["SecretString"]["Fn::Sub"]
    resolved = re.sub(
        r"\{\{resolve:secretsmanager:\$\{\w+\}:SecretString:(\w+)\}\}", r"\1", secret_string
    )
    resolved = resolved.replace("${Database.Endpoint.Address}", "db.internal").replace(
        "${Database.Endpoint.Port}", "5432"
    )
    url = make_url(resolved)
    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.database) == (
        "username",
        "password",
        "db.internal",
        "reframer",
    )
    assert url.query == {"ssl": "require"}


# ------------------------------------------------------------------ the rest of the list


def test_the_load_balancer_serves_https_redirects_http_and_checks_readiness(resources):
    https = properties(resources, "HttpsListener")
    assert (https["Protocol"], https["Port"]) == ("HTTPS", 443)
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    redirect = properties(resources, "HttpRedirectListener")["DefaultActions"][0]
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert properties(resources, "ApiTargetGroup")["HealthCheckPath"] == "/health/ready"


def _matches_internal(condition: dict[str, Any]) -> bool:
    if condition["Field"] != "path-pattern":
        return False
    return any(v.startswith("/internal") for v in condition["PathPatternConfig"]["Values"])


def test_the_load_balancer_forwards_internal_only_from_the_nat_addresses(resources):
    """/internal is the Lambdas' and the containers', which call it from the private subnets
    through the NAT gateways; from anywhere else the load balancer answers 404 itself."""
    listener_rules = {
        name: r["Properties"]
        for name, r in rules.of_type(resources, "AWS::ElasticLoadBalancingV2::ListenerRule").items()
    }
    by_priority = sorted(listener_rules.values(), key=lambda r: r["Priority"])
    internal = [r for r in by_priority if any(_matches_internal(c) for c in r["Conditions"])]
    allowed, refused = internal
    assert rules.referenced(allowed["ListenerArn"]) == "HttpsListener"
    sources = [c for c in allowed["Conditions"] if c["Field"] == "source-ip"]
    assert len(sources) == 1, "forwarded only from given addresses"
    created, existing = sources[0]["SourceIpConfig"]["Values"]["Fn::If"][1:]
    assert created[0] == {"Fn::Sub": "${NatAddressA}/32"}
    assert existing == {"Ref": "ExistingNatAddressCidrs"}
    assert allowed["Actions"][0]["Type"] == "forward"
    assert refused["Priority"] > allowed["Priority"]
    assert [c["Field"] for c in refused["Conditions"]] == ["path-pattern"]
    assert set(refused["Conditions"][0]["PathPatternConfig"]["Values"]) == {
        "/internal",
        "/internal/*",
    }
    response = refused["Actions"][0]["FixedResponseConfig"]
    assert response["StatusCode"] == "404"
    assert json.loads(response["MessageBody"])["code"] == "not_found"
    # Both callers leave through those NAT gateways: the Lambdas and Batch in the private subnets.
    for function in ("JobDispatcherFunction", "WebhookDeliveryFunction"):
        subnets = properties(resources, function)["VpcConfig"]["SubnetIds"]["Fn::If"][1]
        assert [rules.referenced(s) for s in subnets] == ["PrivateSubnetA", "PrivateSubnetB"]


def test_the_api_scales_on_cpu_and_requests_per_target(resources):
    policies = rules.of_type(resources, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"][
            "PredefinedMetricSpecification"
        ]["PredefinedMetricType"]
        for p in policies
    }
    assert metrics == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    service = properties(resources, "ApiService")
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }


def test_the_database_is_private_encrypted_backed_up_and_keyed_from_secrets(resources):
    database = properties(resources, "Database")
    assert database["StorageEncrypted"] is True
    assert database["PubliclyAccessible"] is False
    assert database["BackupRetentionPeriod"] == {"Ref": "DatabaseBackupRetentionDays"}
    assert database["DeletionProtection"] is True
    assert (
        "{{resolve:secretsmanager:${DatabaseCredentialsSecret}"
        in (database["MasterUserPassword"]["Fn::Sub"])
    )
    assert resources["Database"]["DeletionPolicy"] == "Snapshot"


def test_the_media_bucket_is_private_encrypted_open_to_the_spa_and_expires(resources):
    bucket = properties(resources, "MediaBucket")
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    (cors,) = bucket["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == [{"Ref": "SpaOrigin"}]
    assert "PUT" in cors["AllowedMethods"]
    lifecycle = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert lifecycle["expire-uploads"]["Prefix"] == "uploads/"
    assert lifecycle["expire-outputs"]["Prefix"] == "outputs/"
    # A split render's working objects, tagged by the container as it stores them.
    key, value = WORK_TAG.split("=")
    assert lifecycle["expire-render-work"]["TagFilters"] == [{"Key": key, "Value": value}]
    assert lifecycle["expire-render-work"]["ExpirationInDays"] <= 7
    assert lifecycle["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"]


def test_batch_has_fargate_and_spot_a_queue_per_tier_and_a_retried_timed_job(resources):
    environments = rules.of_type(resources, "AWS::Batch::ComputeEnvironment").values()
    assert sorted(e["Properties"]["ComputeResources"]["Type"] for e in environments) == [
        "FARGATE",
        "FARGATE_SPOT",
    ]
    standard = properties(resources, "StandardJobQueue")
    priority = properties(resources, "PriorityJobQueue")
    assert priority["Priority"] > standard["Priority"]
    job = properties(resources, "ReframerJobDefinition")
    assert job["PlatformCapabilities"] == ["FARGATE"]
    assert job["Timeout"] == {"AttemptDurationSeconds": {"Ref": "BatchJobTimeoutSeconds"}}
    assert job["RetryStrategy"]["Attempts"] > 1
    assert job["RetryStrategy"]["EvaluateOnExit"][-1] == {"OnReason": "*", "Action": "EXIT"}
    assert "${BatchImageTag}" in job["ContainerProperties"]["Image"]["Fn::Sub"]
    assert {r["Type"] for r in job["ContainerProperties"]["ResourceRequirements"]} == {
        "VCPU",
        "MEMORY",
    }


def test_a_long_sources_array_children_retry_their_own_failures_until_the_last_attempt(
    resources,
):
    """The split render's children run on a definition of their own: the whole job's image,
    size and timeout, and a retry on the entrypoint's exit 75 (a child that failed before its
    last attempt) as many times as the container is told (RENDER_ATTEMPTS)."""
    whole = properties(resources, "ReframerJobDefinition")
    segment = properties(resources, "ReframerSegmentJobDefinition")
    for same in ("Timeout", "PlatformCapabilities"):
        assert segment[same] == whole[same]
    for same in ("Image", "ResourceRequirements", "JobRoleArn", "EphemeralStorage"):
        assert segment["ContainerProperties"][same] == whole["ContainerProperties"][same]
    retry = segment["RetryStrategy"]
    assert len(retry["EvaluateOnExit"]) <= 5  # Batch's limit
    assert retry["EvaluateOnExit"][0] == {"OnExitCode": "75", "Action": "RETRY"}
    assert retry["EvaluateOnExit"][-1] == {"OnReason": "*", "Action": "EXIT"}
    environment = {e["Name"]: e["Value"] for e in segment["ContainerProperties"]["Environment"]}
    assert environment["RENDER_ATTEMPTS"] == str(retry["Attempts"])
    # The dispatcher may submit on it, and the children may read the plan and segments.
    granted = [
        r
        for statement in rules.statements(resources["JobDispatcherRole"])
        for r in (statement["Resource"] if isinstance(statement["Resource"], list) else [])
    ]
    assert any("reframer-segment:*" in str(r) for r in granted)
    reads = [
        s["Resource"]
        for s in rules.statements(resources["BatchJobRole"])
        if s["Action"] == "s3:GetObject"
    ]
    assert {"Fn::Sub": "${MediaBucket.Arn}/outputs/*/render-work/*"} in reads


def test_alarms_watch_both_dlqs_api_5xx_and_batch_failures(resources):
    watched = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"], rules.referenced(
            a["Properties"]["Dimensions"][0]["Value"]))
        for a in rules.of_type(resources, "AWS::CloudWatch::Alarm").values()
        if "Dimensions" in a["Properties"]
    }  # fmt: skip
    assert {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "JobsDeadLetterQueue"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "WebhooksDeadLetterQueue"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer"),
        ("AWS/Events", "TriggeredRules", "BatchJobFailedRule"),
    } <= watched


def test_an_alarm_watches_the_oldest_queued_job_the_sweeper_logs(resources):
    [metric_filter] = rules.of_type(resources, "AWS::Logs::MetricFilter").values()
    assert rules.referenced(metric_filter["Properties"]["LogGroupName"]) == "ApiLogGroup"
    assert '"job ages"' in metric_filter["Properties"]["FilterPattern"]
    [transformation] = metric_filter["Properties"]["MetricTransformations"]
    assert transformation["MetricValue"] == "$.oldest_queued_age_seconds"
    alarms = [
        a["Properties"]
        for a in rules.of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == transformation["MetricName"]
    ]
    assert [(a["Namespace"], a["Threshold"]) for a in alarms] == [
        (transformation["MetricNamespace"], 2100)
    ]


def test_secrets_manager_holds_the_jwt_service_token_and_stripe_keys(resources):
    secret_names = {
        rules.render(s["Properties"]["Name"], {"ResourcePrefix": "reframer"})
        for s in rules.of_type(resources, "AWS::SecretsManager::Secret").values()
    }
    assert {
        "reframer/jwt-secret",
        "reframer/service-token",
        "reframer/webhook-service-token",
        "reframer/stripe-secret-key",
        "reframer/stripe-webhook-secret",
    } <= secret_names


# ------------------------------------------------------------------ parameter files


@pytest.mark.parametrize("environment_name", ENVIRONMENTS)
def test_parameter_files_fit_the_template(template, environment_name):
    declared: dict[str, dict[str, Any]] = template["Parameters"]
    given = load_parameters(environment_name)
    assert set(given) <= set(declared), "unknown parameters"
    required = {name for name, spec in declared.items() if "Default" not in spec}
    # Image tags move with every deploy, so they are given on the command line, not here.
    assert required - set(given) == IMAGE_TAGS, "parameters without a default must be given"
    for name, value in given.items():
        spec = declared[name]
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], name
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), name
        if "MinValue" in spec:
            assert float(value) >= float(spec["MinValue"]), name
