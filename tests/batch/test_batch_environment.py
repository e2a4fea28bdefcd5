"""The batch image's Python environment as built: batch/requirements.txt (hashes checked)
installed into a fresh virtualenv, with only what the image copies beside it (batch/ and
contracts/), runs the reframer CLI on a short clip, and its result is a callback the API's
contract accepts. A dependency the image lacks fails here, not on AWS."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.batch.conftest import REPO

pytestmark = pytest.mark.slow

# What batch/Dockerfile copies into /app beside the virtualenv.
IMAGE_FOLDERS = ("batch", "contracts")


@pytest.fixture(scope="session")
def batch_environment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the virtualenv's python, the folder standing in for the image's /app)."""
    root = tmp_path_factory.mktemp("batch-image")
    environment = root / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "uv"), "pip", "install", "--quiet",
            "--require-hashes", "--only-binary", ":all:", "--python", str(python),
            "--requirement", str(REPO / "batch" / "requirements.txt"),
        ],
        check=True,
    )  # fmt: skip
    app = root / "app"
    for folder in IMAGE_FOLDERS:
        shutil.copytree(REPO / folder, app / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return python, app


def run_in_image(
    batch_environment: tuple[Path, Path], *args: str | Path
) -> subprocess.CompletedProcess[str]:
    python, app = batch_environment
    return subprocess.run(
        [str(python), "-s", *map(str, args)],
        # As the image sets them: /app on the path, nothing from the repository's .venv.
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(app), "HOME": str(app)},
        cwd=app,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_batch_environment_reframes_a_short_clip_into_a_contract_result(
    batch_environment: tuple[Path, Path], short_clip: Path, tmp_path: Path
) -> None:
    out, result = tmp_path / "out", tmp_path / "result.json"
    done = run_in_image(
        batch_environment, "-m", "batch.reframer", short_clip, "--out", out,
        "--result", result, "--aspect", "1:1", "--resolution", "480p",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert (out / "video.mp4").stat().st_size > 0
    outcome = json.loads(result.read_text())
    assert set(outcome) == {"outputs", "metrics"}
    # Outside S3 the outputs are paths; the entrypoint's check takes the result with S3 URIs.
    checked = run_in_image(batch_environment, "-c", CHECK_RESULT, result)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "complete"


def test_the_batch_environment_holds_no_package_outside_its_requirements(
    batch_environment: tuple[Path, Path],
) -> None:
    done = run_in_image(batch_environment, "-c", "import fastapi")
    assert done.returncode != 0
    assert "No module named 'fastapi'" in done.stderr
    done = run_in_image(batch_environment, "-c", "import app")
    assert "No module named 'app'" in done.stderr


# The result, its output paths put under an S3 prefix, through the entrypoint's check.
CHECK_RESULT = """
import json, sys, tempfile
from pathlib import Path
from contracts.callback_body import result_body
outcome = json.loads(Path(sys.argv[1]).read_text())
outputs = outcome["outputs"]
outcome["outputs"] = {k: "s3://media/outputs/" + Path(v).name for k, v in outputs.items()}
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    json.dump(outcome, f)
kind, body = result_body(Path(f.name))
print(kind)
"""
