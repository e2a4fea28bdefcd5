"""Bad input at scale: schemathesis fuzzes every operation of the service's own OpenAPI
document over real HTTP and holds each answer to the document.

No operation may answer 5xx, every status code, content type and body must be the
documented ones, and every error must be a problem document. Customer routes are called as
a verified Business customer (a JWT or an API key), internal routes with each Lambda's token
or, for the Batch container's callbacks, a dispatched job's own callback token, so the
fuzzed input reaches past authentication into the services and the database.

Bounded and deterministic for CI: a fixed number of examples per operation, derandomized
generation (the same examples every run), no deadline.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import schemathesis
import schemathesis.checks
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis import GenerationMode

from app.api.openapi import operators_document
from app.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from app.config import Settings
from app.domain.api_key_scopes import Scope
from app.domain.plans import PlanName
from devstack.provision import LocalAws
from tests.support import live_server
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory

EXAMPLES_PER_OPERATION = 15
# The Batch container's callbacks: only the token dispatched with that very job opens them.
CONTAINER_CALLBACK = re.compile(r"^/internal/jobs/\{job_id\}/(start|progress|complete|fail)$")


# Values hypothesis rarely draws by chance but that break storage and protocols: every
# top-level body field takes one of them now and then, where its schema allows it.
HOSTILE_VALUES = [
    *["nul\x00inside", "\x00", "line\nbreak", "bell\x07", "del\x7f", "\u202eevil", "🎬"],
    *[2**31, 2**31 - 1, 2**63, 2**64 + 1, 10**30, -(2**63) - 1],
]


def _body_fields(document: dict[str, Any]) -> set[str]:
    """The top-level field names of every JSON request body in the document."""
    schemas = document["components"]["schemas"]
    names: set[str] = set()
    for path_item in document["paths"].values():
        for operation in path_item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                names |= set(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
    return names


def fuzz_config(document: dict[str, Any]) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "dictionaries": {"hostile": {"values": HOSTILE_VALUES}},
            "parameters": {
                f"body.{name}": {"dictionary": "hostile", "probability": 0.3}
                for name in sorted(_body_fields(document))
            },
            # Credentials are ours to send (see Callers): a generated or deliberately missing
            # Authorization header would only test the 401, over and over.
            "generation": {"with-security-parameters": False},
        }
    )


class ProblemDocumentExpected(AssertionError):
    pass


def problem_details(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every error is an RFC 9457 problem document with its stable `code`."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith(PROBLEM_MEDIA_TYPE):
        raise ProblemDocumentExpected(f"{response.status_code} answered as {content_type!r}")
    body = response.json()
    for member in ("type", "title", "status", "detail", "code"):
        if member not in body:
            raise ProblemDocumentExpected(f"the problem document has no {member!r}: {body}")
    if body["status"] != response.status_code or body["type"] != PROBLEM_TYPE_BASE + body["code"]:
        raise ProblemDocumentExpected(f"inconsistent problem document: {body}")


CHECKS: list[Callable[..., Any]] = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    problem_details,
]


@dataclass(frozen=True)
class Callers:
    """Whom each kind of route is called as, and real ids to aim path parameters at."""

    customer: list[dict[str, str]]  # a JWT and an API key of the same Business customer
    dispatcher: dict[str, str]
    webhook_sender: dict[str, str]
    container: dict[str, str]
    dispatched_job_id: str
    customer_ids: dict[str, str]  # path parameter -> an id the customer owns
    delivery_id: str


async def _prepare_callers(
    client: httpx.AsyncClient, app: FastAPI, aws: LocalAws, settings: Settings
) -> Callers:
    user = await UserFactory(client, app).create(plan=PlanName.BUSINESS)
    keys = []
    for name in ("fuzz: authenticates", "fuzz: target of key routes"):
        # Every scope, so the fuzzer reaches each route a key may call at all.
        made = await client.post(
            "/api/api-keys", json={"name": name, "scopes": list(Scope)}, headers=user.headers
        )
        assert made.status_code == 201, made.text
        keys.append(made.json())
    jobs = JobDriver(client, app, aws, settings)
    pending = await jobs.create(user)
    dispatched = await jobs.dispatched(user)
    # Two endpoints: the customer's routes may delete the first; the delivery Lambda's
    # routes work on a delivery of the second.
    endpoint_ids, delivery_ids = [], []
    for _ in range(2):
        endpoint = await client.post(
            "/api/webhooks/endpoints",
            json={"url": "https://hooks.example.com/fuzz", "events": ["job.succeeded"]},
            headers=user.headers,
        )
        assert endpoint.status_code == 201, endpoint.text
        endpoint_ids.append(endpoint.json()["id"])
        delivery = await client.post(
            f"/api/webhooks/endpoints/{endpoint_ids[-1]}/test", headers=user.headers
        )
        assert delivery.status_code == 202, delivery.text
        delivery_ids.append(delivery.json()["id"])
    return Callers(
        customer=[user.headers, {"Authorization": f"Bearer {keys[0]['key']}"}],
        dispatcher=jobs.service_headers,
        webhook_sender=jobs.webhook_service_headers,
        container=dispatched.headers,
        dispatched_job_id=dispatched.job_id,
        customer_ids={
            "job_id": pending["job"]["id"],
            "key_id": keys[1]["id"],
            "endpoint_id": endpoint_ids[0],
            "delivery_id": delivery_ids[0],
        },
        delivery_id=delivery_ids[1],
    )


def _targets(
    operation: schemathesis.APIOperation, callers: Callers
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The credentials to call `operation` with, and the real ids for its path parameters."""
    path = operation.path
    names = {p.name for p in operation.path_parameters}
    if CONTAINER_CALLBACK.match(path):
        return [callers.container], {"job_id": callers.dispatched_job_id}
    if path.startswith("/internal/webhooks/"):
        return [callers.webhook_sender], {"delivery_id": callers.delivery_id}
    if path.startswith("/internal/"):
        return [callers.dispatcher], {}
    known = {name: value for name, value in callers.customer_ids.items() if name in names}
    return callers.customer, known


def _fuzz(operation: schemathesis.APIOperation, base_url: str, callers: Callers) -> str | None:
    """Runs the examples of one operation; the first failure, described, or None."""
    credentials, known_ids = _targets(operation, callers)
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if known_ids:
        # Aimed at rows that exist, so the input reaches past the 404 into the service.
        strategies += [
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known_ids),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=known_ids),
        ]

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=st.one_of(strategies), headers=st.sampled_from(credentials))
    def examples(case: schemathesis.Case, headers: dict[str, str]) -> None:
        response = case.call(base_url=base_url, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        examples()
    except (Exception, BaseExceptionGroup) as failure:  # schemathesis groups its findings
        return f"{operation.label}: {_describe(failure)}"
    return None


def _describe(failure: BaseException) -> str:
    """What went wrong and how to reproduce it (schemathesis adds a curl command as a note)."""
    parts = [f"{type(failure).__name__}: {failure}"]
    if isinstance(failure, BaseExceptionGroup):
        parts += [f"  {type(e).__name__}: {e}" for e in failure.exceptions]
    parts += getattr(failure, "__notes__", [])
    return "\n".join(parts)


def _fuzz_all(schema: Any, base_url: str, callers: Callers) -> list[str]:
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document lists no operation"
    for operation in operations:
        failure = _fuzz(operation, base_url, callers)
        if failure is not None:
            failures.append(failure)
    return failures


async def test_no_fuzzed_request_gets_a_5xx_or_an_undocumented_answer(
    app: FastAPI, client: httpx.AsyncClient, aws: LocalAws, settings: Settings
) -> None:
    callers = await _prepare_callers(client, app, aws, settings)
    # The operators' document: the public one leaves the /internal routes out.
    document = operators_document(app)
    schema = schemathesis.openapi.from_dict(document, config=fuzz_config(document))
    async with live_server.serve(app) as base_url:
        # schemathesis sends with a blocking client: off the loop that serves the app.
        failures = await asyncio.to_thread(_fuzz_all, schema, base_url, callers)
    assert not failures, "\n\n".join(failures)
