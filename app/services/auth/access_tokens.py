"""Short-lived JWT access tokens (python-jose, HS256 pinned on decode).

A token names its account and the plan the account had when the token was issued. The plan
sets only the caller's rate-limit budget, so a plan change reaches the budget at the next
refresh (`access_token_ttl_seconds`); what a plan allows is always read from the account.
It also carries the account's session version (`sv`): the auth dependency compares it with
the account's on every request, so a password change or "log out everywhere" ends it at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from jose import JWTError, jwt

from app.config import Settings
from app.domain.clock import utcnow
from app.domain.errors import InvalidToken

ISSUER = "reframer"
AUDIENCE = "reframer-api"


@dataclass(frozen=True)
class AccessClaims:
    account_id: uuid.UUID
    token_id: str
    plan: str | None  # None in tokens issued before tokens carried it
    session_version: int  # 0 in tokens issued before tokens carried it (accounts began at 0)


def issue_access_token(
    settings: Settings, account_id: uuid.UUID, plan: str, session_version: int
) -> str:
    now = utcnow()
    claims = {
        "sub": str(account_id),
        "plan": plan,
        "sv": session_version,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.access_token_ttl_seconds)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return str(jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm))


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    claims, expires_at = _verified_claims(settings.jwt_secret, settings.jwt_algorithm, token)
    if utcnow().timestamp() > expires_at:
        raise InvalidToken("The access token is malformed, expired or not ours.")
    return claims


# Verifying a signature costs about what a database query does, and a client sends the same
# token with every request until it expires. A token's claims never change and the secret is
# fixed for the process, so a verified token is remembered (expiry is still checked on every
# use, above, and the session version against the account's by the caller); a token that
# fails raises and is not remembered.
@lru_cache(maxsize=4096)
def _verified_claims(secret: str, algorithm: str, token: str) -> tuple[AccessClaims, int]:
    try:
        # `algorithms` pinned: a token claiming `none` or RS256 is refused.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require_exp": True, "require_sub": True},
        )
        return (
            AccessClaims(
                account_id=uuid.UUID(claims["sub"]),
                token_id=str(claims.get("jti")),
                plan=str(claims["plan"]) if "plan" in claims else None,
                session_version=int(claims.get("sv", 0)),
            ),
            int(claims["exp"]),
        )
    except (JWTError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidToken("The access token is malformed, expired or not ours.") from exc
