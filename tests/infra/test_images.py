"""The container images and shell scripts: hadolint, shellcheck, and what the API image promises.

No Docker engine runs here, so the images are never built in tests: they are linted, and the
API Dockerfile is read for the properties the issue asks of it.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.checkers import REPO

API_DOCKERFILE = REPO / "Dockerfile"
BIN = Path(sys.executable).parent
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|make|build-essential|clang|cargo|rustc)\b")


def repository_files() -> list[Path]:
    """Tracked and new files, minus what .gitignore keeps out (virtualenvs, build output)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    return [REPO / name for name in listed if (REPO / name).is_file()]


def dockerfiles() -> list[Path]:
    return [p for p in repository_files() if p.name == "Dockerfile" or p.suffix == ".Dockerfile"]


def shell_scripts() -> list[Path]:
    return [p for p in repository_files() if p.suffix == ".sh"]


def linter(name: str) -> str:
    path = shutil.which(name, path=str(BIN))
    assert path, f"{name} is missing from {BIN}: reinstall requirements-dev.txt"
    return path


def lint(tool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [linter(tool), *map(str, args)], cwd=REPO, capture_output=True, text=True, check=False
    )


def stages(dockerfile: Path) -> list[list[str]]:
    """The instructions of each build stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    found: list[list[str]] = []
    for line in text.splitlines():
        instruction = line.strip()
        if not instruction or instruction.startswith("#"):
            continue
        if instruction.upper().startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def copied_sources(copy: str) -> list[str]:
    """The sources of a COPY instruction (shell or JSON form), flags left out."""
    arguments = copy.split(None, 1)[1]
    words = [w for w in arguments.split() if not w.startswith("--")]
    if words and words[0].startswith("["):
        words = json.loads(" ".join(words))
    return [w.removeprefix("./") for w in words[:-1]]


def test_the_api_dockerfile_is_found_among_the_dockerfiles():
    assert API_DOCKERFILE in dockerfiles()


@pytest.mark.parametrize("dockerfile", dockerfiles(), ids=lambda p: str(p.relative_to(REPO)))
def test_dockerfiles_are_hadolint_clean(dockerfile: Path):
    result = lint("hadolint", dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(REPO)))
def test_shell_scripts_are_shellcheck_clean(script: Path):
    result = lint("shellcheck", "--external-sources", script)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_and_shellcheck_do_catch_mistakes(tmp_path: Path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:latest\nRUN cd /srv && pip install fastapi\n")
    findings = lint("hadolint", dockerfile).stdout
    assert "DL3007" in findings  # latest tag
    assert "DL3003" in findings  # cd instead of WORKDIR
    script = tmp_path / "broken.sh"
    script.write_text("#!/usr/bin/env bash\nrm -rf $1/\n")
    assert "SC2086" in lint("shellcheck", script).stdout  # unquoted expansion


def test_the_api_image_is_multi_stage_slim_and_runs_unprivileged():
    build, runtime = stages(API_DOCKERFILE)
    assert build[0].endswith(" AS build")
    assert runtime[0].endswith(" AS runtime")
    assert "python:3.11-slim" in API_DOCKERFILE.read_text()
    assert any(line.startswith("COPY --from=build /opt/venv") for line in runtime)
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users, "the final stage must drop root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert not any(BUILD_TOOLS.search(line) for line in runtime if line.startswith("RUN "))


def test_the_api_image_checks_its_health_and_takes_workers_from_the_environment():
    runtime = stages(API_DOCKERFILE)[-1]
    (healthcheck,) = [line for line in runtime if line.startswith("HEALTHCHECK ")]
    assert "/health/live" in healthcheck
    (command,) = [line for line in runtime if line.startswith("CMD ")]
    assert "app.main:create_app" in command
    # uvicorn takes its worker count from WEB_CONCURRENCY; a --workers flag would override it.
    assert "--workers" not in command
    assert any(line.startswith("ENV ") and "WEB_CONCURRENCY=" in line for line in runtime)


def test_the_build_context_keeps_what_the_images_copy():
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".venv-tools", ".env"} <= ignored
    for dockerfile in dockerfiles():
        for stage in stages(dockerfile):
            for line in stage:
                if line.startswith("COPY ") and "--from=" not in line:
                    for source in copied_sources(line):
                        top = source.rstrip("/").split("/")[0]
                        assert top not in ignored, f"{dockerfile.name} copies ignored {source}"
                        assert list(REPO.glob(source)), f"{dockerfile.name} copies {source}"


FIRST_PARTY = {"app", "contracts", "lambdas", "batch", "bench", "devstack", "tests"}


def first_party_imports(folder: Path, *, leave_out: tuple[str, ...] = ()) -> set[str]:
    """The repository's top-level packages that the code under `folder` imports."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        if any(part in leave_out for part in path.relative_to(REPO).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found & FIRST_PARTY


def copied_packages(dockerfile: Path) -> set[str]:
    runtime = stages(dockerfile)[-1]
    return {
        source.rstrip("/").split("/")[0]
        for line in runtime
        if line.startswith("COPY ") and "--from=" not in line
        for source in copied_sources(line)
    }


def test_each_image_copies_every_package_its_code_imports():
    """An import the image lacks fails only on AWS: the API imports contracts/, and so does
    the container's entrypoint (`python -m contracts.callback_body`)."""
    api_needs = first_party_imports(REPO / "app") | {"app"}
    assert api_needs <= copied_packages(API_DOCKERFILE), api_needs
    # The local emulators (moto, the SMTP sink, the local Lambdas and Batch) are `make run`'s.
    assert "devstack" not in api_needs | copied_packages(API_DOCKERFILE)
    batch_dockerfile = REPO / "batch" / "Dockerfile"
    entrypoint = (REPO / "docker-entrypoint.sh").read_text()
    batch_needs = first_party_imports(REPO / "batch") | {"batch"}
    batch_needs |= set(re.findall(r"-m (\w+)\.", entrypoint)) & FIRST_PARTY
    assert "contracts" in batch_needs
    assert batch_needs <= copied_packages(batch_dockerfile), batch_needs
    for dockerfile in (API_DOCKERFILE, batch_dockerfile):
        installs = [line for stage in stages(dockerfile) for line in stage if "pip install" in line]
        assert installs, dockerfile
        assert all("--require-hashes" in line for line in installs), dockerfile
