"""`Idempotency-Key` for the routes that honour it (Stripe's semantics).

The first successful answer to a key is saved, in the transaction of the work it reports,
with a fingerprint of the operation (`POST /api/jobs`, from the route) and the request; a
retry with the same key and request gets that answer again (`Idempotent-Replayed: true`), a
different request under the same key 409 `idempotency_key_reused`. Refusals are not saved:
a retry after fixing the cause may succeed. The keys' storage is `app.services.idempotency`;
a route takes `IdempotencyDep` (app/api/deps.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.services import idempotency
from app.services.idempotency import IdempotentRequest, SavedResponse

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Idempotency:
    """The request's key (None without one), and the operation it was sent to."""

    key: str | None
    operation: str
    account_id: uuid.UUID
    session: AsyncSession
    ttl_seconds: int

    async def respond(
        self,
        request: dict[str, Any],
        work: Callable[[Callable[[T], None]], Awaitable[T]],
        render: Callable[[T], BaseModel],
        status_code: int,
    ) -> JSONResponse:
        """Answers with the response saved for this key and `request`, or runs `work` and
        answers with `render` of its result. `work` calls its argument with the result in its
        transaction, before it commits: the saved response commits with the work."""
        keyed = (
            IdempotentRequest(
                key=self.key, fingerprint=idempotency.fingerprint(self.operation, request)
            )
            if self.key is not None
            else None
        )
        if keyed is not None and (
            saved := await idempotency.find_saved(self.session, self.account_id, keyed)
        ):
            return _replay(saved)
        rendered: dict[str, Any] = {}

        def save(result: T) -> None:
            rendered.update(render(result).model_dump(mode="json"))
            if keyed is not None:
                idempotency.save_response(
                    self.session, self.account_id, keyed, status_code, rendered, self.ttl_seconds
                )

        try:
            await work(save)
        except IntegrityError:
            # A concurrent request with the same key won; answer as it did (409 if it differs).
            await self.session.rollback()
            if keyed is None:
                raise
            saved = await idempotency.find_saved(self.session, self.account_id, keyed)
            if saved is None:
                raise
            return _replay(saved)
        return JSONResponse(rendered, status_code=status_code)


def _replay(saved: SavedResponse) -> JSONResponse:
    return JSONResponse(
        saved.body, status_code=saved.status, headers={"Idempotent-Replayed": "true"}
    )
