"""The AWS Batch reframing container."""
