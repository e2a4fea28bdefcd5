"""The container's callback bodies, built from the contract's models for docker-entrypoint.sh:

    python -m contracts.callback_body start BATCH_JOB_ID
    python -m contracts.callback_body fail CODE MESSAGE
    python -m contracts.callback_body result FILE   # the pipeline's --result file

Each prints one JSON body that the API's model for that callback accepts, or exits 2 with
what is wrong. `result` tells a finished pipeline's outcome (the complete callback's
`{"outputs", "metrics"}`) from a failed one's (the fail callback's `{"code", "message"}`) and
prints `complete <json>` or `fail <json>`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from contracts.callbacks import (
    MAX_FAILURE_MESSAGE_CHARS,
    CompleteCallback,
    FailCallback,
    StartCallback,
)


def _text(value: str) -> str:
    """A failure message the API stores: no NUL, within the length it takes."""
    cleaned = value.replace("\x00", " ").strip() or "no message"
    if len(cleaned) > MAX_FAILURE_MESSAGE_CHARS:
        cleaned = cleaned[: MAX_FAILURE_MESSAGE_CHARS - 14] + " … [truncated]"
    return cleaned


def start_body(batch_job_id: str) -> StartCallback:
    return StartCallback(batch_job_id=batch_job_id)


def fail_body(code: str, message: str) -> FailCallback:
    return FailCallback.model_validate({"code": code, "message": _text(message)})


def result_body(path: Path) -> tuple[str, BaseModel]:
    """The callback the pipeline's result file asks for: ("complete" | "fail", its body)."""
    outcome = json.loads(path.read_text())
    if isinstance(outcome, dict) and "code" in outcome:
        return "fail", fail_body(str(outcome["code"]), str(outcome.get("message", "")))
    return "complete", CompleteCallback.model_validate(outcome)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.callback_body")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start").add_argument("batch_job_id")
    failed = commands.add_parser("fail")
    failed.add_argument("code")
    failed.add_argument("message")
    commands.add_parser("result").add_argument("file", type=Path)
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "start":
            print(start_body(arguments.batch_job_id).model_dump_json())
        elif arguments.command == "fail":
            print(fail_body(arguments.code, arguments.message).model_dump_json())
        else:
            kind, body = result_body(arguments.file)
            print(kind, body.model_dump_json())
    except (ValidationError, ValueError, OSError) as error:
        print(f"not a valid {arguments.command} callback: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
