"""How the API fills the contract's job models (`contracts/`) from its own records."""

from __future__ import annotations

from app.db.models import Job
from app.services.jobs.callbacks import JobSpec
from contracts.callbacks import JobState
from contracts.dispatch import DispatchSpec, RenderSplit
from contracts.jobs import AspectRatio, JobOptions, JobStatus, ProgressStage


def dispatch_spec(spec: JobSpec, callback_url: str) -> DispatchSpec:
    return DispatchSpec(
        job_id=spec.job_id,
        account_id=spec.account_id,
        plan=spec.plan,
        input_uri=spec.input_uri,
        output_prefix=spec.output_prefix,
        options=JobOptions(aspect_ratio=AspectRatio(spec.aspect_ratio), resolution=spec.resolution),
        max_source_seconds=spec.max_source_seconds,
        batch_queue=spec.batch_queue,
        callback_url=callback_url,
        callback_token=spec.callback_token,
        source_seconds=spec.source_seconds,
        render_split=RenderSplit(
            threshold_seconds=spec.render_split[0],
            segment_seconds=spec.render_split[1],
            max_children=spec.render_split[2],
        ),
    )


def job_state(job: Job) -> JobState:
    return JobState(
        job_id=job.id,
        status=JobStatus(job.status),
        batch_job_id=job.batch_job_id,
        stage=ProgressStage(job.stage) if job.stage else None,
        percent=job.percent,
    )
