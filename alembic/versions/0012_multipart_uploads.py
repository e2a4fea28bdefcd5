"""multipart uploads: a large source arrives in parts; the job keeps the open S3 upload

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        # Set for a multipart job; the upload id only while S3 holds the upload open.
        batch_op.add_column(sa.Column("part_size_bytes", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("multipart_upload_id", sa.String(length=1024), nullable=True))
        batch_op.create_index(
            "ix_jobs_multipart_upload_id_open",
            ["status"],
            unique=False,
            postgresql_where=sa.text("multipart_upload_id IS NOT NULL"),
            sqlite_where=sa.text("multipart_upload_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_multipart_upload_id_open")
        batch_op.drop_column("multipart_upload_id")
        batch_op.drop_column("part_size_bytes")
