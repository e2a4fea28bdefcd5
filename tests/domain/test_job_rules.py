"""Pure job rules: periods, output locations, progress order, plan refusals, problem members."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.config import Settings
from app.domain import plan_gate
from app.domain.errors import (
    DomainError,
    OutputOutsidePrefix,
    QuotaExceeded,
    TierLimit,
    UploadTooLarge,
)
from app.domain.jobs import ProgressStage, new_upload_key, output_key, progress_advances
from app.domain.periods import month_of
from app.domain.plans import GIB, MIB, PLANS, AspectRatio, PlanName


def test_periods_are_calendar_months_in_utc() -> None:
    december = month_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert december.key == "2026-12"
    assert december.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert december.resets_at == datetime(2027, 1, 1, tzinfo=UTC)
    # 00:30 on 1 March in Berlin is still February in UTC.
    berlin = month_of(datetime(2026, 3, 1, 0, 30, tzinfo=ZoneInfo("Europe/Berlin")))
    assert berlin.key == "2026-02"


def test_outputs_must_be_files_under_the_jobs_prefix() -> None:
    job = uuid.uuid4()
    assert output_key(f"s3://b/outputs/{job}/video.mp4", "b", job) == f"outputs/{job}/video.mp4"
    for uri in (
        f"s3://b/outputs/{job}/",
        f"s3://b/outputs/{job}/../x/video.mp4",
        f"s3://b/outputs/{job}//video.mp4",
        f"s3://c/outputs/{job}/video.mp4",
        f"s3://b/outputs/{uuid.uuid4()}/video.mp4",
        f"s3://b/outputs/{job}",
    ):
        with pytest.raises(OutputOutsidePrefix):
            output_key(uri, "b", job)


def test_upload_keys_are_scoped_to_the_job_and_never_repeat() -> None:
    job = uuid.uuid4()
    keys = {new_upload_key(job) for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith(f"uploads/{job}/") for k in keys)


def test_progress_moves_forward_by_stage_then_percent() -> None:
    assert progress_advances(None, None, ProgressStage.PROBE, 0)
    assert progress_advances("faces", 90, ProgressStage.SALIENCY, 10)
    assert progress_advances("faces", 40, ProgressStage.FACES, 41)
    assert not progress_advances("faces", 40, ProgressStage.FACES, 40)
    assert not progress_advances("render", 10, ProgressStage.CAMERA, 99)


def test_plan_refusals_carry_their_fields() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    free, business = PLANS[PlanName.FREE], PLANS[PlanName.BUSINESS]
    with pytest.raises(TierLimit) as square:
        plan_gate.ensure_output_options(settings.upgrade_url, free, AspectRatio.SQUARE, "720p")
    assert square.value.extra["required_plan"] == "pro"
    with pytest.raises(TierLimit) as size:
        plan_gate.ensure_upload_size(settings.upgrade_url, free, 300 * MIB)
    assert size.value.extra["limit_bytes"] == free.max_upload_bytes
    # Past one S3 PUT's 5 GiB, sources go in parts: each plan's own limit is the bound.
    plan_gate.ensure_upload_size(settings.upgrade_url, business, 10 * GIB)
    with pytest.raises(UploadTooLarge):
        plan_gate.ensure_upload_size(settings.upgrade_url, business, 10 * GIB + 1)
    with pytest.raises(TierLimit) as seven_gib:
        plan_gate.ensure_upload_size(settings.upgrade_url, free, 7 * GIB)
    assert seven_gib.value.extra["required_plan"] == "business"
    period = month_of(datetime(2026, 11, 5, tzinfo=UTC))
    with pytest.raises(QuotaExceeded) as monthly:
        plan_gate.ensure_monthly_jobs(settings.upgrade_url, free, free.jobs_per_month, period)
    assert monthly.value.extra["resets_at"] == "2026-12-01T00:00:00+00:00"
    plan_gate.ensure_monthly_jobs(settings.upgrade_url, free, free.jobs_per_month - 1, period)
    plan_gate.ensure_concurrency(settings.upgrade_url, business, business.concurrent_jobs - 1)


def test_problem_members_cannot_be_shadowed() -> None:
    with pytest.raises(TypeError):
        DomainError("x", status="running")
