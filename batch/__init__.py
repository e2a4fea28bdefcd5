"""The AWS Batch container: the reframing pipeline."""
