"""A complete, valid production configuration: tests change one thing and expect a refusal."""

from __future__ import annotations

from typing import Any

from app.config import Settings

STRONG = "s" * 40

PRODUCTION_SETTINGS: dict[str, Any] = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://app:pw@db.internal:5432/reframer",
    "jwt_secret": STRONG + "j",
    "secret_key": STRONG + "k",
    "service_token": STRONG + "t",
    "webhook_service_token": STRONG + "w",
    "cors_origins": ["https://app.reframer.dev"],
    "smtp_host": "email-smtp.us-east-1.amazonaws.com",
    "smtp_port": 587,
    "smtp_starttls": True,
    "email_from": "Reframer <no-reply@reframer.dev>",
    "stripe_secret_key": "sk_live_" + STRONG,
    "stripe_webhook_secret": "whsec_" + STRONG,
    "stripe_price_pro": "price_1ProLive",
    "stripe_price_business": "price_1BusinessLive",
    "rate_limit_storage_uri": "redis://cache.internal:6379/0",
    "trusted_proxy_hops": 1,  # the ALB
}


def production_settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **{**PRODUCTION_SETTINGS, **overrides})  # type: ignore[arg-type]
