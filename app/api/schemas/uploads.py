"""Multipart uploads: what the create hands out for a large source, and the part endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain.multipart import S3_MAX_PARTS
from app.services.jobs.multipart import MultipartTicket, PartUrl, UploadStatus


class PartUploadUrl(BaseModel):
    part_number: int = Field(ge=1, le=S3_MAX_PARTS)
    size_bytes: int = Field(description="the part's exact length: its URL is signed for it")
    url: str = Field(description="PUT the part's bytes here; keep the ETag the answer carries")
    headers: dict[str, str] = Field(description="send exactly these headers: they are signed")

    @classmethod
    def of(cls, part: PartUrl) -> PartUploadUrl:
        return cls(
            part_number=part.part_number, size_bytes=part.size_bytes, url=part.url,
            headers=part.headers,
        )  # fmt: skip


class MultipartUploadInstructions(BaseModel):
    method: Literal["multipart"] = "multipart"
    upload_id: str
    part_size_bytes: int = Field(
        description="every part has this length but the last, which holds what remains"
    )
    part_count: int
    parts: list[PartUploadUrl] = Field(
        description="URLs for the first parts; POST …/upload/part-urls for the others"
    )
    urls_expire_at: datetime = Field(description="the part URLs stop working then: renew them")
    expires_at: datetime = Field(description="complete and confirm before this")

    @classmethod
    def of(cls, ticket: MultipartTicket) -> MultipartUploadInstructions:
        return cls(
            upload_id=ticket.upload_id,
            part_size_bytes=ticket.part_size_bytes,
            part_count=ticket.part_count,
            parts=[PartUploadUrl.of(p) for p in ticket.parts],
            urls_expire_at=ticket.urls_expire_at,
            expires_at=ticket.expires_at,
        )


class UploadedPart(BaseModel):
    part_number: int
    size_bytes: int
    etag: str


class MultipartUploadStatus(BaseModel):
    job_id: str
    state: Literal["open", "completed", "aborted"]
    size_bytes: int
    part_size_bytes: int
    part_count: int
    parts: list[UploadedPart] = Field(description="the parts storage holds now")
    missing_parts: list[int] = Field(
        description="parts to upload (again): absent, or of another length than their URL's"
    )
    expires_at: datetime

    @classmethod
    def of(cls, status: UploadStatus) -> MultipartUploadStatus:
        job = status.job
        state: Literal["open", "completed", "aborted"] = (
            "completed"
            if status.completed
            else "open"
            if job.multipart_upload_id is not None
            else "aborted"
        )
        return cls(
            job_id=str(job.id),
            state=state,
            size_bytes=status.layout.size_bytes,
            part_size_bytes=status.layout.part_size_bytes,
            part_count=status.layout.part_count,
            parts=[
                UploadedPart(part_number=p.part_number, size_bytes=p.size_bytes, etag=p.etag)
                for p in status.parts
            ],
            missing_parts=status.missing_parts,
            expires_at=job.upload_expires_at,
        )


class PartUrlsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_numbers: list[int] = Field(
        min_length=1,
        max_length=1000,
        description="the parts to sign (the server hands out at most its per-request number)",
    )


class PartUrlsResponse(BaseModel):
    parts: list[PartUploadUrl]
    urls_expire_at: datetime

    @classmethod
    def of(cls, urls: list[PartUrl], expire_at: datetime) -> PartUrlsResponse:
        return cls(parts=[PartUploadUrl.of(u) for u in urls], urls_expire_at=expire_at)


class CompletedPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_number: int = Field(ge=1, le=S3_MAX_PARTS)
    etag: str = Field(min_length=1, max_length=256, description="the ETag the part's PUT answered")


class CompleteUploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[CompletedPart] = Field(min_length=1, max_length=S3_MAX_PARTS)
