"""HTTP stays in app/api: the services and the domain hold no route, build no URL to one and
decide no HTTP status (their imports are checked by import-linter, in `make lint`).

Read from the source: a string that is an operation (`"POST /api/jobs"`), a URL put together
with one of our paths (`f"{base}/internal/jobs/{id}"`), any other string naming one of our
routes (a message's "Subscribe first with POST /api/billing/checkout." is the API's to write,
from the error's `next_step`), an HTTP status given as a number to a `status` or
`status_code`. Docstrings may say which route calls a function, and the webhook rules read the
status a customer's server answered; neither is the API's own HTTP.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INNER_LAYERS = ("app/services", "app/domain")

OPERATION = re.compile(r"^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) /\S*$")
OUR_PATHS = ("/api/", "/internal/")
STATUS_NAMES = re.compile(r"^(status|status_code|http_status)$")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _is_status_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and 100 <= node.value <= 599


def _target_names(target: ast.AST) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Attribute):
        yield target.attr
    elif isinstance(target, ast.Tuple):
        for element in target.elts:
            yield from _target_names(element)


def http_knowledge(source: str) -> list[str]:
    """What in this module's code knows the API's HTTP: one line per finding."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            if OPERATION.match(node.value):
                found.append(f"line {line}: the operation {node.value!r}")
            elif any(path in node.value for path in OUR_PATHS):
                found.append(f"line {line}: our route named in {node.value!r}")
        elif isinstance(node, ast.JoinedStr):
            literal = "".join(
                part.value
                for part in node.values
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
            )
            builds = any(isinstance(part, ast.FormattedValue) for part in node.values)
            if builds and any(path in literal for path in OUR_PATHS):
                found.append(f"line {line}: a URL built to one of our routes")
        elif isinstance(node, ast.keyword):
            if node.arg and STATUS_NAMES.match(node.arg) and _is_status_number(node.value):
                found.append(f"line {line}: the HTTP status {node.arg}={node.value.value}")  # type: ignore[attr-defined]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [name for target in targets for name in _target_names(target)]
            values = (
                node.value.elts
                if isinstance(node.value, ast.Tuple)
                else [node.value]
                if node.value is not None
                else []
            )
            if any(STATUS_NAMES.match(n) for n in names) and any(map(_is_status_number, values)):
                found.append(f"line {line}: an HTTP status assigned to {names}")
    return found


def inner_modules() -> list[Path]:
    return sorted(p for layer in INNER_LAYERS for p in (ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize(
    "module", inner_modules(), ids=lambda p: str(p.relative_to(ROOT)).replace("/", ".")
)
def test_services_and_domain_know_no_http(module: Path) -> None:
    assert http_knowledge(module.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        'CREATE_OPERATION = "POST /api/jobs"',
        'url = f"{settings.callback_base_url}/internal/jobs/{job.id}"',
        "raise Refused(status_code=409)",
        "class Gone(DomainError):\n    status, code = 410, 'gone'",
        'raise NoBillingAccount("Subscribe first with POST /api/billing/checkout.")',
        'RESEND_ROUTE = "/api/auth/resend-verification"',
    ],
)
def test_the_check_finds_http_in_code(source: str) -> None:
    assert http_knowledge(source) != []


@pytest.mark.parametrize(
    "source",
    [
        '"""POST /api/jobs: a docstring may say which route calls this."""',
        "raise NoBillingAccount(next_step=NextStep.BILLING_CHECKOUT)",
        "if 200 <= report.status_code < 300:\n    pass",
        'link = f"{base}/verify-email#{fragment}"',
    ],
)
def test_the_check_leaves_prose_and_the_customers_http_alone(source: str) -> None:
    assert http_knowledge(source) == []
