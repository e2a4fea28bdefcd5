from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    WithJsonSchema,
    field_validator,
)


class UpdateMeRequest(BaseModel):
    """Only the fields sent change; an unknown field is refused rather than ignored."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"notify_on_job_done": False}]
    })  # fmt: skip

    # Optional to send, never null: the schema shows a boolean, the validator refuses null.
    notify_on_job_done: Annotated[StrictBool | None, WithJsonSchema({"type": "boolean"})] = Field(
        None, description="email when a job succeeds or fails"
    )

    @field_validator("notify_on_job_done", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for a field that was sent: `null` would hide a client bug as "no change".
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it as it is")
        return value


class ChangeEmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(description="the corrected address; a new link is sent to it")
