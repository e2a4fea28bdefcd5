from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.api.schemas.uploads import MultipartUploadInstructions
from app.db.models import Job, JobEvent
from app.domain.job_states import Actor, JobStatus
from app.domain.jobs import VIDEO_CONTENT_TYPES, ProgressStage, is_retryable
from app.domain.plans import AspectRatio
from app.services.jobs.creation import CreatedJob
from app.services.jobs.multipart import MultipartTicket
from app.services.jobs.queries import DownloadLink, JobPage
from contracts.jobs import JobOptions as JobOptions
from contracts.jobs import Resolution as Resolution

MAX_DECLARED_DURATION_SECONDS = 24 * 3600


def _plain_filename(value: str) -> str:
    if (
        any(ord(c) < 32 or ord(c) == 127 for c in value)
        or "/" in value
        or "\\" in value
        or value.strip() != value
        or value in (".", "..")
    ):
        raise ValueError(
            "must be a bare file name: no path separators, control characters, "
            "or leading and trailing spaces"
        )
    return value


def _video_content_type(value: str) -> str:
    if value not in VIDEO_CONTENT_TYPES:
        raise ValueError(f"must be one of {', '.join(sorted(VIDEO_CONTENT_TYPES))}")
    return value


class CreateJobRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "filename": "keynote.mp4",
                    "content_type": "video/mp4",
                    "size_bytes": 48_000_000,
                    "duration_seconds": 95.5,
                    "options": {"aspect_ratio": "9:16", "resolution": "720p"},
                }
            ]
        },
    )

    filename: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_plain_filename)]
    content_type: Annotated[
        str,
        Field(max_length=100, description="a video type, sent again verbatim with the upload"),
        AfterValidator(_video_content_type),
    ]
    size_bytes: int = Field(gt=0, description="the exact size of the file to upload")
    duration_seconds: float | None = Field(
        None,
        gt=0,
        le=MAX_DECLARED_DURATION_SECONDS,
        description=(
            "Optional: the source's duration. Checked against the plan's longest source. Usage "
            "counts it at confirm as the job's source minutes; without it the job counts 0 "
            "minutes until the pipeline measures the source, and the measured duration "
            "replaces the hint when the job succeeds."
        ),
    )
    options: JobOptions = Field(default_factory=JobOptions)


class JobProgress(BaseModel):
    stage: ProgressStage
    percent: int = Field(ge=0, le=100)


class JobError(BaseModel):
    code: str = Field(
        description="invalid_media, source_too_long (the measured source is longer than the "
        "plan takes: `feature`, `required_plan` and `upgrade_url` say which plan would; nothing "
        "is charged), pipeline_error, timeout, canceled, upload_failed, or "
        "container_lost (the container stopped reporting, or its Batch job never started), "
        "dispatch_failed (the job could not be handed to Batch in its dispatch attempts)"
    )
    message: str | None
    retryable: bool = Field(
        description="the failure lies with the infrastructure, not the video: the same "
        "upload submitted again as a new job can be expected to succeed"
    )
    feature: str | None = Field(None, description="source_too_long: the plan limit it hit")
    required_plan: str | None = Field(
        None, description="source_too_long: the cheapest plan that takes the source, if any"
    )
    upgrade_url: str | None = Field(None, description="source_too_long: where to upgrade")


def _error_of(job: Job) -> JobError | None:
    if job.error_code is None:
        return None
    # A refusal for the source's length carries the tier_limit fields, kept in its metrics.
    limit = (job.metrics or {}).get("tier_limit") if job.error_code == "source_too_long" else None
    return JobError(
        code=job.error_code,
        message=job.error_message,
        retryable=is_retryable(job.error_code),
        **{k: limit.get(k) for k in ("feature", "required_plan", "upgrade_url")}
        if isinstance(limit, dict)
        else {},
    )


class JobResponse(BaseModel):
    id: uuid.UUID
    status: JobStatus
    filename: str
    content_type: str
    size_bytes: int
    duration_seconds: float | None
    options: JobOptions
    progress: JobProgress | None = Field(description="while the job runs, and after it succeeds")
    error: JobError | None = Field(description="why the job failed")
    created_at: datetime
    updated_at: datetime
    upload_expires_at: datetime
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobResponse:
        return cls(
            id=job.id,
            status=JobStatus(job.status),
            filename=job.filename,
            content_type=job.content_type,
            size_bytes=job.size_bytes,
            duration_seconds=job.duration_seconds,
            options=JobOptions(
                aspect_ratio=AspectRatio(job.aspect_ratio),
                resolution=job.resolution,
            ),
            progress=(
                JobProgress(stage=ProgressStage(job.stage), percent=job.percent)
                if job.stage is not None and job.percent is not None
                else None
            ),
            error=_error_of(job),
            created_at=job.created_at,
            updated_at=job.updated_at,
            upload_expires_at=job.upload_expires_at,
            queued_at=job.queued_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class UploadInstructions(BaseModel):
    url: str = Field(description="PUT the file's bytes here, directly to storage")
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str] = Field(description="send exactly these headers: they are signed")
    expires_at: datetime


class CreateJobResponse(BaseModel):
    job: JobResponse
    upload: Annotated[
        UploadInstructions | MultipartUploadInstructions,
        Field(
            discriminator="method",
            description="`PUT`: one request; `multipart`: a source above the multipart "
            "threshold, uploaded in parts",
        ),
    ]

    @classmethod
    def of(cls, created: CreatedJob) -> CreateJobResponse:
        upload = created.upload
        return cls(
            job=JobResponse.of(created.job),
            upload=(
                MultipartUploadInstructions.of(upload)
                if isinstance(upload, MultipartTicket)
                else UploadInstructions(
                    url=upload.url, headers=upload.headers, expires_at=upload.expires_at
                )
            ),
        )


class JobListItem(JobResponse):
    thumbnail_url: str | None = Field(
        description="a presigned JPEG still of a succeeded job's result (expires like downloads)"
    )

    measured_duration_seconds: float | None = Field(
        description="the source's duration as the pipeline measured it, once the job succeeded"
    )

    @classmethod
    def listed(cls, job: Job, thumbnail_url: str | None) -> JobListItem:
        measured = (job.metrics or {}).get("duration_seconds")
        return cls(
            **dict(JobResponse.of(job)),
            thumbnail_url=thumbnail_url,
            measured_duration_seconds=(
                float(measured) if isinstance(measured, int | float) else None
            ),
        )


class JobListResponse(BaseModel):
    data: list[JobListItem]
    has_more: bool = Field(description="pass the last job's id as `starting_after` for more")

    @classmethod
    def of(cls, page: JobPage, thumbnails: dict[uuid.UUID, str]) -> JobListResponse:
        return cls(
            data=[JobListItem.listed(j, thumbnails.get(j.id)) for j in page.jobs],
            has_more=page.has_more,
        )


class JobEventResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    from_status: JobStatus | None
    to_status: JobStatus
    actor: Actor
    reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, event: JobEvent) -> JobEventResponse:
        return cls.model_validate(event)


class DownloadLinkResponse(BaseModel):
    url: str
    expires_at: datetime

    @classmethod
    def of(cls, link: DownloadLink) -> DownloadLinkResponse:
        return cls(url=link.url, expires_at=link.expires_at)


class JobOutputsResponse(BaseModel):
    video: DownloadLinkResponse = Field(description="the reframed video (MP4)")
    thumbnail: DownloadLinkResponse = Field(description="a JPEG still")
    manifest: DownloadLinkResponse = Field(description="JSON: the crop path and pipeline facts")
    source: DownloadLinkResponse = Field(
        description="the uploaded source video, until storage's upload retention removes it"
    )

    @classmethod
    def of(cls, links: dict[str, DownloadLink]) -> JobOutputsResponse:
        return cls(
            video=DownloadLinkResponse.of(links["video"]),
            thumbnail=DownloadLinkResponse.of(links["thumbnail"]),
            manifest=DownloadLinkResponse.of(links["manifest"]),
            source=DownloadLinkResponse.of(links["source"]),
        )
