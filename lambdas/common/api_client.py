"""The Lambdas' client for the API's /internal routes (sync httpx: fine inside a Lambda)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

USER_AGENT = "reframer-lambda/1"


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

    def get(self, path: str) -> dict[str, Any]:
        return self._json(self._http.get(path))

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._json(self._http.post(path, json=body if body is not None else {}))

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.is_success:
            data: dict[str, Any] = response.json() if response.content else {}
            return data
        try:
            problem = response.json()
        except ValueError:
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
