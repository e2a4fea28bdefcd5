"""job dispatch recovery: when a job entered its state, and its dispatch attempts; an index
of pending webhook deliveries for the sweeper

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status_changed_at", app.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dispatch_enqueued_at", app.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dispatch_attempts", sa.Integer(), nullable=False, server_default="0")
        )
    # Existing rows: their last change is the closest known moment; a queued job's message
    # went out no later than that.
    op.execute("UPDATE jobs SET status_changed_at = updated_at")
    op.execute("UPDATE jobs SET dispatch_enqueued_at = updated_at WHERE status = 'queued'")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column(
            "status_changed_at",
            existing_type=app.db.base.UTCDateTime(timezone=True),
            nullable=False,
        )
        batch_op.alter_column("dispatch_attempts", server_default=None)
        batch_op.create_index(
            "ix_jobs_status_status_changed_at", ["status", "status_changed_at"], unique=False
        )
    op.create_index(
        "ix_webhook_deliveries_pending_updated_at",
        "webhook_deliveries",
        ["updated_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_pending_updated_at", table_name="webhook_deliveries")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_status_changed_at")
        batch_op.drop_column("dispatch_attempts")
        batch_op.drop_column("dispatch_enqueued_at")
        batch_op.drop_column("status_changed_at")
