"""checkov: every finding is on the explicit skip list with its reason, and nothing more is."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.infra.checkers import CHECKOV_SKIPS, PUBLIC_BUCKET, TEMPLATE, Checkers

pytestmark = pytest.mark.slow  # waits for the checkers in .venv-tools


@pytest.fixture(scope="module")
def skips() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load(CHECKOV_SKIPS.read_text())
    return entries


def accepted(skips: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(entry["check"], resource) for entry in skips for resource in entry["resources"]}


def test_every_skip_names_resources_and_gives_a_one_line_reason(skips):
    checks = [entry["check"] for entry in skips]
    assert len(checks) == len(set(checks)), "one entry per check id"
    for entry in skips:
        assert set(entry) == {"check", "resources", "reason"}, entry
        assert entry["check"].startswith("CKV"), entry
        assert entry["resources"], entry
        reason = entry["reason"]
        assert isinstance(reason, str), entry
        assert reason.strip(), entry
        assert "\n" not in reason.strip(), entry


def test_checkov_finds_nothing_outside_the_skip_list(checkers: Checkers, skips):
    findings = checkers.checkov_failures()[TEMPLATE.name]
    unexpected = findings - accepted(skips)
    assert not unexpected, f"fix these or add them to {CHECKOV_SKIPS.name} with a reason"


def test_no_skip_outlives_its_finding(checkers: Checkers, skips):
    findings = checkers.checkov_failures()[TEMPLATE.name]
    stale = accepted(skips) - findings
    assert not stale, f"remove these from {CHECKOV_SKIPS.name}: they no longer fail"


def test_a_public_bucket_fails_checkov(checkers: Checkers, skips):
    findings = checkers.checkov_failures()[f"{PUBLIC_BUCKET.name}.yaml"]
    unexpected = {check for check, resource in findings - accepted(skips)}
    # Block public ACLs / policies, ignore public ACLs, restrict public buckets.
    assert {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"} <= unexpected
