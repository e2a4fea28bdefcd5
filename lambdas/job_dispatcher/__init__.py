"""The job_dispatcher Lambda: a queued job becomes an AWS Batch job."""
