"""The failures the pipeline reports, each with the callback contract's `code`."""

from __future__ import annotations

from typing import Literal

FailureCode = Literal["invalid_media", "pipeline_error", "timeout", "canceled", "upload_failed"]


class PipelineError(Exception):
    """A failure with a stable machine code and a message meant for a person."""

    code: FailureCode = "pipeline_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidMedia(PipelineError):
    """The input is not a video this pipeline can read (corrupt, empty, unsupported)."""

    code: FailureCode = "invalid_media"


class UploadFailed(PipelineError):
    """The outputs were made but could not be stored under the output prefix."""

    code: FailureCode = "upload_failed"


class Terminated(PipelineError):
    """The process was told to stop (SIGTERM from a Batch timeout or cancel, or Ctrl-C)."""

    def __init__(self, message: str, code: FailureCode) -> None:
        super().__init__(message)
        self.code = code
