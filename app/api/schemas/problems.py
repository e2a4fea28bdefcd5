from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable machine `code` and per-error members."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://reframer.dev/problems/validation_error"])
    title: str
    status: int
    detail: str
    code: str = Field(examples=["validation_error"])
    request_id: str | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": Problem, "content": {"application/problem+json": {}}}
        for status in statuses
    }
