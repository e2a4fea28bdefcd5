"""What an API key may do: a few named scopes, chosen when the key is made (like Stripe's
restricted keys). A user's session may do everything; a key only what its scopes name, and
never what only a session may (minting keys, billing, password and account changes)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    JOBS_READ = "jobs:read"
    JOBS_WRITE = "jobs:write"
    USAGE_READ = "usage:read"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"


# A new key runs jobs and reads usage; webhooks only when its creator chooses them.
DEFAULT_SCOPES: tuple[Scope, ...] = (Scope.JOBS_READ, Scope.JOBS_WRITE, Scope.USAGE_READ)
# Keys made before scopes existed could manage webhooks: they keep that, not key minting.
LEGACY_SCOPES: tuple[Scope, ...] = (*DEFAULT_SCOPES, Scope.WEBHOOKS_READ, Scope.WEBHOOKS_WRITE)

_WRITE_SUFFIX = ":write"
_READ_SUFFIX = ":read"


def grants(held: Iterable[str], needed: Scope) -> bool:
    """Whether `held` allows `needed`; writing a resource includes reading it."""
    held = set(held)
    if needed.value in held:
        return True
    if needed.value.endswith(_READ_SUFFIX):
        return needed.value.removesuffix(_READ_SUFFIX) + _WRITE_SUFFIX in held
    return False


def normalise(scopes: Iterable[Scope]) -> list[str]:
    """Unique, in the declaration order of `Scope`: what is stored and shown."""
    chosen = set(scopes)
    return [scope.value for scope in Scope if scope in chosen]
