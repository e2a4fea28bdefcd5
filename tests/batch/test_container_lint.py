"""The Batch image's Dockerfile and entrypoint stay lint-clean (hadolint, shellcheck), so CI
catches what a Docker build or a bash edge case would only show in production."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.batch.conftest import REPO

BIN = Path(sys.executable).parent


def test_the_batch_dockerfile_is_hadolint_clean() -> None:
    done = subprocess.run(
        [str(BIN / "hadolint"), str(REPO / "batch" / "Dockerfile")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_entrypoint_is_shellcheck_clean() -> None:
    done = subprocess.run(
        [str(BIN / "shellcheck"), str(REPO / "docker-entrypoint.sh")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
