"""retention indexes: the sweeper deletes old rows by these columns

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 11:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table, column): without them each retention pass would scan its whole table.
INDEXES = (
    ("ix_webhook_events_created_at", "webhook_events", "created_at"),
    ("ix_email_tokens_expires_at", "email_tokens", "expires_at"),
    ("ix_refresh_tokens_expires_at", "refresh_tokens", "expires_at"),
    ("ix_refresh_tokens_revoked_at", "refresh_tokens", "revoked_at"),
    ("ix_stripe_events_received_at", "stripe_events", "received_at"),
)


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _on_postgresql():
        # CONCURRENTLY does not block writes to tables that may already be large (refresh
        # tokens, webhook events); it cannot run inside a transaction.
        with op.get_context().autocommit_block():
            for name, table, column in INDEXES:
                op.create_index(name, table, [column], postgresql_concurrently=True)
    else:
        for name, table, column in INDEXES:
            op.create_index(name, table, [column])


def downgrade() -> None:
    if _on_postgresql():
        with op.get_context().autocommit_block():
            for name, table, _ in INDEXES:
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
    else:
        for name, table, _ in INDEXES:
            op.drop_index(name, table_name=table)
