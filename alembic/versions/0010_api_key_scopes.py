"""api key scopes: what each key may do

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:30:00.000000
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keys made before scopes keep what they could do, but key minting and billing: jobs, usage
# and webhooks (app.domain.api_key_scopes.LEGACY_SCOPES, copied: migrations never import app).
LEGACY_SCOPES = ["jobs:read", "jobs:write", "usage:read", "webhooks:read", "webhooks:write"]


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column(
                "scopes",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default=sa.text(f"'{json.dumps(LEGACY_SCOPES)}'"),
            )
        )
    # The default only filled the existing rows; new keys always name their scopes.
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("scopes", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("scopes")
