"""The messages that cross process boundaries, and the rules both sides of one must share.

The API, the two Lambdas and the Batch container each import this package; it depends on the
standard library and pydantic alone, so every artifact can carry it (`infra/build-lambda.sh`
packages it beside `lambdas/`, the batch image copies it).

- `jobs`: the job vocabulary (statuses, stages, failure codes, output options);
- `dispatch`: the jobs queue's message, the dispatch spec and the submitted callback;
- `callbacks`: the container's start, progress, complete and fail callbacks;
- `webhooks`: the webhooks queue's message, the delivery to send and the attempt's outcome;
- `ssrf`, `webhook_signing`: the address rules and Standard Webhooks signing.
"""
