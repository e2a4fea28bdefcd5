from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.infra.checkers import PARAMETERS, Checkers

ARTIFACTS_BUCKET = "reframer-infra-artifacts"
LAMBDA_PACKAGE_KEY = "lambda.zip"


@pytest.fixture(scope="session")
def checkers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkers]:
    started = Checkers.start(
        tmp_path_factory.mktemp("infra"), f"s3://{ARTIFACTS_BUCKET}/{LAMBDA_PACKAGE_KEY}"
    )
    yield started
    started.stop()


@pytest.fixture(scope="session")
def template(checkers: Checkers) -> dict[str, Any]:
    """infra/template.yaml after the SAM transform: plain CloudFormation."""
    return checkers.translated_template()


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template["Resources"]
    return found


def load_parameters(environment: str) -> dict[str, str]:
    entries = json.loads((PARAMETERS / f"{environment}.json").read_text())
    return {entry["ParameterKey"]: entry["ParameterValue"] for entry in entries}
