"""The Lambdas' credentials for /internal routes: one token per function.

The webhook_delivery Lambda talks to customers' servers; its token opens the webhook routes
and nothing else, and the job_dispatcher's token opens the dispatch routes and nothing else,
so neither function's compromise reaches the other's side. A user's JWT or API key never
passes.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from app.api.deps import SettingsDep, bearer_scheme
from app.config import Settings
from app.domain.errors import Forbidden, NotFound, Unauthenticated

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
INTERNAL_RAW_PREFIX = b"/internal/"


async def require_plain_internal_path(request: Request) -> None:
    """The load balancer forwards `/internal/*` from the NAT gateways only; a path spelled
    another way (`/%69nternal/...`) would pass its rule and be decoded into an internal route
    here, so only the literal spelling reaches these routes."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    if not raw_path.startswith(INTERNAL_RAW_PREFIX):
        raise NotFound("No such route.")


def _require_token(
    function_name: str, token_of: Callable[[Settings], str]
) -> Callable[..., Awaitable[None]]:
    async def dependency(settings: SettingsDep, credentials: Credentials) -> None:
        if credentials is None:
            raise Unauthenticated(f"Send `Authorization: Bearer <{function_name} token>`.")
        if not hmac.compare_digest(credentials.credentials.encode(), token_of(settings).encode()):
            raise Forbidden(f"This credential may not call the {function_name} routes.")

    return dependency


require_dispatcher_token = _require_token("job_dispatcher", lambda s: s.service_token)
require_webhook_sender_token = _require_token("webhook_delivery", lambda s: s.webhook_service_token)
