"""The Lambdas' client for the API's /internal routes (sync httpx: fine inside a Lambda).

Requests and answers are the contract's models (`contracts/`): a field the API renamed or
dropped fails here, as a validation error, rather than as a KeyError further on.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

import httpx
from pydantic import BaseModel

USER_AGENT = "reframer-lambda/1"

Answer = TypeVar("Answer", bound=BaseModel)


class ApiError(Exception):
    """The API answered with an error; `code` is the problem document's stable code."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class InternalApi:
    def __init__(self, base_url: str, service_token: str, *, timeout_seconds: float = 10.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {service_token}", "User-Agent": USER_AGENT},
            timeout=timeout_seconds,
            # Retries a connection that could not be made; never a request that was sent.
            transport=httpx.HTTPTransport(retries=2),
        )

    def get(self, path: str, answer: type[Answer]) -> Answer:
        return self._parse(self._http.get(path), answer)

    def post(self, path: str, body: BaseModel | None, answer: type[Answer]) -> Answer:
        content = body.model_dump_json(exclude_none=True) if body is not None else "{}"
        response = self._http.post(
            path, content=content, headers={"Content-Type": "application/json"}
        )
        return self._parse(response, answer)

    @staticmethod
    def _parse(response: httpx.Response, answer: type[Answer]) -> Answer:
        if response.is_success:
            return answer.model_validate_json(response.content)
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        raise ApiError(
            response.status_code,
            str(problem.get("code", "http_error")),
            str(problem.get("detail", response.reason_phrase)),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> InternalApi:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
