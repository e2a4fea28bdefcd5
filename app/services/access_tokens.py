"""Short-lived JWT access tokens (python-jose, HS256 pinned on decode)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

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


def issue_access_token(settings: Settings, account_id: uuid.UUID) -> str:
    now = utcnow()
    claims = {
        "sub": str(account_id),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.access_token_ttl_seconds)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return str(jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm))


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    try:
        # `algorithms` pinned: a token claiming `none` or RS256 is refused.
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require_exp": True, "require_sub": True},
        )
        return AccessClaims(account_id=uuid.UUID(claims["sub"]), token_id=str(claims.get("jti")))
    except (JWTError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidToken("The access token is malformed, expired or not ours.") from exc
