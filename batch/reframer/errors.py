"""The failures the pipeline reports, each with the callback contract's `code`."""

from __future__ import annotations

from typing import Literal

FailureCode = Literal[
    "invalid_media",
    "source_too_long",
    "pipeline_error",
    "timeout",
    "canceled",
    "upload_failed",
    "segment_failed",
]


class PipelineError(Exception):
    """A failure with a stable machine code and a message meant for a person."""

    code: FailureCode = "pipeline_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidMedia(PipelineError):
    """The input is not a video this pipeline can read (corrupt, empty, unsupported)."""

    code: FailureCode = "invalid_media"


class SourceTooLong(PipelineError):
    """The source is longer than the job's plan takes; the API adds the plan that would."""

    code: FailureCode = "source_too_long"

    def __init__(self, duration: float, limit: float) -> None:
        super().__init__(
            f"the source is {duration:.1f} seconds long; this plan takes sources up to "
            f"{limit:g} seconds"
        )
        self.duration = duration
        self.limit = limit


class UploadFailed(PipelineError):
    """The outputs were made but could not be stored under the output prefix."""

    code: FailureCode = "upload_failed"


class Terminated(PipelineError):
    """The process was told to stop (SIGTERM from a Batch timeout or cancel, or Ctrl-C)."""

    def __init__(self, message: str, code: FailureCode) -> None:
        super().__init__(message)
        self.code = code
