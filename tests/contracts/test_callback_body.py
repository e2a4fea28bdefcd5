"""`python -m contracts.callback_body`: the container's callback bodies, from the models the
API validates them with (pure, tested directly; tests/batch runs it from the entrypoint)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.callback_body import main
from contracts.callbacks import MAX_FAILURE_MESSAGE_CHARS, CompleteCallback, FailCallback

OUTPUTS = {
    "video": "s3://media/outputs/j/video.mp4",
    "thumbnail": "s3://media/outputs/j/thumbnail.jpg",
    "manifest": "s3://media/outputs/j/manifest.json",
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out.strip(), captured.err


def test_start_carries_the_batch_job_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "start", "batch-7e1f")[:2] == (0, '{"batch_job_id":"batch-7e1f"}')
    status, _out, err = run(capsys, "start", "not allowed/")
    assert status == 2
    assert "batch_job_id" in err


def test_a_failure_message_of_any_text_becomes_a_body_the_api_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    message = 'a "quoted"\nline\twith\x01control and \x00 NUL ' + "x" * 5000
    status, out, _err = run(capsys, "fail", "invalid_media", message)
    assert status == 0
    body = FailCallback.model_validate_json(out)
    assert body.code == "invalid_media"
    assert "\x00" not in body.message
    assert len(body.message) == MAX_FAILURE_MESSAGE_CHARS
    assert body.message.startswith('a "quoted"\nline\twith\x01control')
    assert run(capsys, "fail", "no_such_code", "x")[0] == 2


def test_a_result_file_becomes_complete_or_fail(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps({"outputs": OUTPUTS, "metrics": {"duration_seconds": 2.0}}))
    status, out, _err = run(capsys, "result", str(result))
    kind, body = out.split(" ", 1)
    assert (status, kind) == (0, "complete")
    assert CompleteCallback.model_validate_json(body).outputs.video == OUTPUTS["video"]

    result.write_text(json.dumps({"code": "pipeline_error", "message": "boom"}))
    assert run(capsys, "result", str(result))[1] == (
        'fail {"code":"pipeline_error","message":"boom"}'
    )


@pytest.mark.parametrize(
    "outcome",
    [
        {"outputs": {**OUTPUTS, "video": "/tmp/video.mp4"}, "metrics": {}},
        {"outputs": OUTPUTS, "metrics": {"x": float("inf")}},
        {"outputs": OUTPUTS, "metrics": {}, "extra": 1},
    ],
)
def test_a_result_outside_the_contract_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, outcome: dict[str, object]
) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps(outcome))
    status, out, err = run(capsys, "result", str(result))
    assert (status, out) == (2, "")
    assert "not a valid result callback" in err


def test_a_missing_or_unreadable_result_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "result", str(tmp_path / "missing.json"))[0] == 2
    (tmp_path / "bad.json").write_text("{not json")
    assert run(capsys, "result", str(tmp_path / "bad.json"))[0] == 2
