"""One resolution for every artifact (`make lock`): each requirements file is pinned from
requirements-dev.txt with hashes, a package two shipped artifacts share has one version, and
each package declares in pyproject.toml what its code imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.infra.checkers import REPO

# The one resolution, and the files pinned from it: the .venv, the API image, the Lambda
# package, the batch image.
LOCK = REPO / "requirements-dev.txt"
ARTIFACTS = {
    "api image": (REPO / "requirements.txt", "api"),
    "lambda package": (REPO / "requirements-lambdas.txt", "lambdas"),
    "batch image": (REPO / "batch" / "requirements.txt", "batch"),
}
# Resolved apart on purpose (see the Makefile): the template checkers' .venv-tools, the
# benchmark's moto on PyPy 3.9 and its pyautoflip virtualenv. None ships.
APART = [
    REPO / "infra" / "requirements-tools.txt",
    REPO / "bench" / "requirements-moto-pypy.txt",
    REPO / "bench" / "requirements-autoflip.txt",
]
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\],]+)==(\S+)", re.MULTILINE)
FIRST_PARTY = {
    "app",
    "contracts",
    "lambdas",
    "batch",
    "bench",
    "devstack",
    "tests",
}
# Which extras each package's code may import from (besides the standard library).
PACKAGE_EXTRAS = {
    "app": {"api"},
    "devstack": {"api", "lambdas", "local"},
    "contracts": {"api", "lambdas", "batch"},
    "lambdas": {"lambdas"},
    "batch": {"batch"},
}
# Imported only under `if TYPE_CHECKING:` (the boto3 stubs of the dev extra).
TYPING_ONLY = re.compile(r"^mypy_boto3_")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def pins(path: Path) -> dict[str, str]:
    return {normalized(name): version for name, version in PIN.findall(path.read_text())}


def unhashed(path: Path) -> list[str]:
    """The pinned requirements of `path` that carry no hash."""
    blocks = re.split(r"\n(?=\S)", path.read_text())
    return [b.split()[0] for b in blocks if PIN.match(b) and "--hash=sha256:" not in b]


def declared(extra: str) -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["optional-dependencies"][extra]
    return {normalized(re.split(r"[<>=!~;\s]", r, maxsplit=1)[0]) for r in requirements}


def imported_modules(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in FIRST_PARTY}


@pytest.mark.parametrize("artifact", sorted(ARTIFACTS))
def test_each_artifact_is_pinned_from_the_lock_with_hashes(artifact: str) -> None:
    path, extra = ARTIFACTS[artifact]
    text = path.read_text()
    assert "-c requirements-dev.txt" in text.splitlines()[1], "compiled by `make lock`"
    assert "--generate-hashes" in text.splitlines()[1]
    pinned = pins(path)
    assert declared(extra) <= set(pinned), "every declared dependency is pinned"
    locked = pins(LOCK)
    assert {name: locked.get(name) for name in pinned} == pinned, "the lock's versions"
    assert unhashed(path) == []


def test_a_package_two_shipped_artifacts_share_has_one_version() -> None:
    versions: dict[str, set[str]] = {}
    for path in [LOCK, *(path for path, _extra in ARTIFACTS.values())]:
        for name, version in pins(path).items():
            versions.setdefault(name, set()).add(version)
    assert {name: v for name, v in versions.items() if len(v) > 1} == {}
    # The drift this replaced: the batch image pinned boto3 1.44.5, the tests ran 1.40.61.
    assert (
        len({pins(path)["botocore"] for path in (LOCK, REPO / "batch" / "requirements.txt")}) == 1
    )


@pytest.mark.parametrize("path", APART, ids=lambda p: p.name)
def test_the_separately_resolved_files_are_hashed_too(path: Path) -> None:
    assert pins(path)
    assert unhashed(path) == []


@pytest.mark.parametrize("package", sorted(PACKAGE_EXTRAS))
def test_each_package_declares_what_it_imports(package: str) -> None:
    distributions = packages_distributions()
    allowed = set().union(*(declared(extra) for extra in PACKAGE_EXTRAS[package]))
    if package == "contracts":
        # Every artifact that carries contracts/ must provide its imports.
        allowed = set.intersection(*(declared(extra) for extra in PACKAGE_EXTRAS[package]))
    undeclared = {}
    for module in imported_modules(REPO / package):
        if TYPING_ONLY.match(module):
            continue
        providers = {normalized(d) for d in distributions.get(module, [module])}
        if not providers & allowed:
            undeclared[module] = sorted(providers)
    assert undeclared == {}, f"declare these in pyproject.toml's {PACKAGE_EXTRAS[package]}"
