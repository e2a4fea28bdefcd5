"""cfn-lint: the template is clean, and each deliberate mistake is caught by its rule."""

from __future__ import annotations

import pytest

from tests.infra.checkers import LINT_MUTANTS, TEMPLATE, Checkers

pytestmark = pytest.mark.slow  # waits for the checkers in .venv-tools


def describe(matches: list[dict]) -> str:
    return "\n".join(f"{m['Rule']['Id']} {m['Location']['Path']}: {m['Message']}" for m in matches)


def test_the_template_is_cfn_lint_clean(checkers: Checkers):
    matches = checkers.cfn_lint_matches()[TEMPLATE.name]
    assert matches == [], describe(matches)


@pytest.mark.parametrize("rule", sorted(LINT_MUTANTS))
def test_a_deliberate_mistake_fails_the_lint(checkers: Checkers, rule: str):
    mutant = checkers.lint_mutants[rule]
    matches = checkers.cfn_lint_matches()[mutant.name]
    assert rule in {m["Rule"]["Id"] for m in matches}, (
        f"{mutant.name} should be reported as {rule}; cfn-lint said:\n{describe(matches)}"
    )
