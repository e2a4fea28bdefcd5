"""What ships is what is tested: `infra/build-lambda.sh` builds the package the template
deploys, and each handler the template names runs from that package alone (`python -I -S`,
the package the only folder on the path besides the standard library), on genuine SQS events
from moto, against the API served over real HTTP on loopback.

A handler that imports anything the package lacks (the API's `app`, a dependency left out of
the `lambdas` extra) fails here with ModuleNotFoundError, as it would on AWS.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI

from app.config import Settings
from app.domain.plans import PlanName
from devstack.batch_runner import LocalBatch
from devstack.lambda_runners import webhook_delivery_environment
from devstack.moto_server import MotoServer
from devstack.provision import LocalAws
from devstack.sqs_poller import SqsPoller
from tests.lambdas.test_job_dispatcher import batch_job_id_of, receive_event, submitted_jobs
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory
from tests.support.webhook_receiver import WebhookReceiver, run_receiver
from tests.webhooks.helpers import create_endpoint, deliveries, send_test_delivery

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
BUILD_SCRIPT = ROOT / "infra" / "build-lambda.sh"
HANDLER_TIMEOUT_SECONDS = 60.0
WAIT_SECONDS = 20.0

# Imports the handler as the Lambda runtime does ("path/to/module.function", the package's
# root first on sys.path), calls it with the event on stdin, prints its answer, and refuses
# any module loaded from outside the package and the standard library.
RUNNER = """
import importlib, json, sys, sysconfig
package, handler = sys.argv[1], sys.argv[2]
sys.path.insert(0, package)
module_name, function_name = handler.rsplit(".", 1)
function = getattr(importlib.import_module(module_name.replace("/", ".")), function_name)
answer = function(json.load(sys.stdin), None)
allowed = (package, sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
strays = sorted(
    name for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None) and not module.__file__.startswith(allowed)
)
print(json.dumps({"answer": answer, "strays": strays}))
"""


@dataclass(frozen=True)
class TemplateFunction:
    name: str
    code_uri: Path
    handler: str


def _ignore_tags(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:
    return None  # !Ref, !Sub, ...: this test reads only plain strings


def template_functions() -> dict[str, TemplateFunction]:
    """Every Lambda function of infra/template.yaml, with its CodeUri and Handler."""
    loader = type("TemplateLoader", (yaml.SafeLoader,), {})
    loader.add_multi_constructor("!", _ignore_tags)
    template = yaml.load(TEMPLATE.read_text(), Loader=loader)  # noqa: S506 (SafeLoader's subclass)
    functions = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            properties = resource["Properties"]
            functions[name] = TemplateFunction(
                name=name,
                code_uri=(TEMPLATE.parent / properties["CodeUri"]).resolve(),
                handler=properties["Handler"],
            )
    return functions


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as `infra/build-lambda.sh` builds it (into a folder of this test run)."""
    functions = template_functions()
    assert {f.code_uri for f in functions.values()} == {ROOT / "build" / "lambda"}, (
        "every function deploys the folder infra/build-lambda.sh builds"
    )
    out = tmp_path_factory.mktemp("lambda-package") / "lambda"
    subprocess.run(
        [str(BUILD_SCRIPT), str(out)],
        check=True,
        cwd=ROOT,
        env={**os.environ, "UV": str(Path(sys.executable).parent / "uv")},
    )
    return out


def run_from_package(
    package: Path, handler: str, event: dict[str, Any], environment: dict[str, str]
) -> dict[str, Any]:
    """Calls `handler` in a fresh interpreter that sees only the package and the stdlib."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUNNER, str(package), handler],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        timeout=HANDLER_TIMEOUT_SECONDS,
        # An empty folder: nothing of the repository is importable from the working directory.
        cwd=package.parent,
        env={"PATH": os.environ.get("PATH", ""), **environment},
        check=False,
    )
    assert done.returncode == 0, f"{handler} failed from its package:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["strays"] == [], "modules loaded from outside the package"
    answer: dict[str, Any] = result["answer"]
    return answer


def built_handler(
    package: Path, function: TemplateFunction, environment: dict[str, str]
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return run_from_package(package, function.handler, event, environment)

    return handler


def aws_environment(settings: Settings, moto_server: MotoServer) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": settings.aws_region,
        "AWS_ENDPOINT_URL": moto_server.endpoint_url,
    }


def test_the_template_names_both_handlers_and_neither_package_imports_the_api() -> None:
    functions = template_functions()
    assert {f.handler for f in functions.values()} == {
        "lambdas/job_dispatcher/handler.handler",
        "lambdas/webhook_delivery/handler.handler",
    }
    for path in [*(ROOT / "lambdas").rglob("*.py"), *(ROOT / "contracts").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            assert not [n for n in names if n.split(".")[0] in {"app", "tests"}], path


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with run_receiver() as running:
        yield running


async def test_the_built_webhook_handler_signs_and_delivers_a_real_sqs_event(
    lambda_package: Path,
    client: Any,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    settings: Settings,
    moto_server: MotoServer,
    api_url: str,
    receiver: WebhookReceiver,
) -> None:
    function = template_functions()["WebhookDeliveryFunction"]
    environment = {
        **aws_environment(settings, moto_server),
        **webhook_delivery_environment(settings, api_url),
        # The receiver listens on loopback.
        "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    }
    poller = SqsPoller(
        app.state.aws.sqs,
        aws.webhooks_queue_url,
        built_handler(lambda_package, function, environment),
        function_name="webhook_delivery",
        region=settings.aws_region,
        wait_time_seconds=1,
    )
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user, url=receiver.url())
    delivery_id = await send_test_delivery(client, user, endpoint["id"])
    await app.state.outbox_relay.relay_once()
    deadline = time.monotonic() + WAIT_SECONDS
    while not receiver.requests:
        assert time.monotonic() < deadline, "the built handler delivered nothing"
        await poller.poll_once()

    [request] = receiver.requests
    assert request.headers["webhook-id"]
    assert request.headers["webhook-signature"].startswith("v1,")
    [logged] = await deliveries(client, user)
    assert logged["id"] == delivery_id
    assert logged["status"] == "delivered"
    assert [a["status_code"] for a in logged["attempts"]] == [200]


async def test_the_built_dispatcher_handler_submits_a_queued_job_to_batch(
    lambda_package: Path,
    jobs: JobDriver,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    settings: Settings,
    moto_server: MotoServer,
    dispatcher_env: dict[str, str],
    local_batch: LocalBatch,
) -> None:
    function = template_functions()["JobDispatcherFunction"]
    environment = {**aws_environment(settings, moto_server), **dispatcher_env}
    user = await users.create(plan=PlanName.BUSINESS)
    job_id = await jobs.queued(user)
    assert await jobs.relay() == 1
    event = await receive_event(app, aws, 1)

    handler = built_handler(lambda_package, function, environment)
    # Off the loop that serves the API the handler calls.
    answer = await asyncio.to_thread(handler, event, None)

    assert answer == {"batchItemFailures": []}
    [submission] = submitted_jobs(local_batch)[job_id]
    assert submission.environment["JOB_ID"] == job_id
    assert json.loads(submission.environment["OPTIONS"]) == {
        "aspect_ratio": "9:16",
        "resolution": "720p",
    }
    assert await batch_job_id_of(app, job_id) == submission.job_id
