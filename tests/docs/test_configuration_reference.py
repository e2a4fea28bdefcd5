"""docs/configuration.md is what `make docs` generates from app/config.py, never edited apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic.fields import FieldInfo

from scripts.configuration_docs import UndocumentedSetting, render, row

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "docs" / "configuration.md"


def run_generator(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.configuration_docs", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_reference_is_what_the_settings_generate() -> None:
    checked = run_generator("--check")

    assert checked.returncode == 0, checked.stderr


def test_the_check_fails_on_a_reference_edited_by_hand(tmp_path: Path) -> None:
    edited = tmp_path / "configuration.md"
    edited.write_text(REFERENCE.read_text(encoding="utf-8").replace("`900`", "`901`", 1))

    checked = run_generator("--check", "--path", str(edited))

    assert checked.returncode == 1
    assert "run `make docs`" in checked.stderr


def test_writing_then_checking_agrees(tmp_path: Path) -> None:
    written = tmp_path / "docs" / "configuration.md"

    assert run_generator("--path", str(written)).returncode == 0
    assert written.read_text(encoding="utf-8") == render()
    assert run_generator("--check", "--path", str(written)).returncode == 0


def test_every_setting_has_a_row_with_its_variable() -> None:
    from app.config import Settings

    reference = REFERENCE.read_text(encoding="utf-8")

    for name in Settings.model_fields:
        if name == "otel_exporter_otlp_endpoint":
            assert "| `OTEL_EXPORTER_OTLP_ENDPOINT` |" in reference
        else:
            assert f"| `REFRAMER_{name.upper()}` |" in reference


def test_a_setting_without_a_description_is_refused() -> None:
    with pytest.raises(UndocumentedSetting, match=r"Settings\.new_knob has no description"):
        row("new_knob", FieldInfo(annotation=int, default=1))


def test_a_row_shows_type_bounds_default_and_description() -> None:
    field = FieldInfo(annotation=int, default=3600, ge=60, description="how long | at most")

    assert row("upload_window_seconds", field) == (
        "| `REFRAMER_UPLOAD_WINDOW_SECONDS` | int (≥ 60) | `3600` (1 h) | how long \\| at most |"
    )
