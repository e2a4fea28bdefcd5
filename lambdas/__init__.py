"""The Lambda functions: job_dispatcher and webhook_delivery."""
