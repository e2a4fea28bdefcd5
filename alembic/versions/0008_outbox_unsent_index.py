"""outbox unsent index: the relay's claim walks only unsent rows, oldest first

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Sent rows stay for days (the relay prunes them after SENT_RETENTION) and outnumber the
# unsent ones by far: the claim (sent_at IS NULL ... ORDER BY id LIMIT n) reads this small
# index in id order and stops after its batch, instead of gathering and sorting every due row.
NAME = "ix_outbox_messages_unsent"
TABLE = "outbox_messages"
UNSENT = sa.text("sent_at IS NULL")


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _on_postgresql():
        # CONCURRENTLY does not block the relay's writes; it cannot run inside a transaction.
        with op.get_context().autocommit_block():
            op.create_index(
                NAME, TABLE, ["id"], postgresql_where=UNSENT, postgresql_concurrently=True
            )
    else:
        op.create_index(NAME, TABLE, ["id"], sqlite_where=UNSENT)


def downgrade() -> None:
    if _on_postgresql():
        with op.get_context().autocommit_block():
            op.drop_index(NAME, table_name=TABLE, postgresql_concurrently=True)
    else:
        op.drop_index(NAME, table_name=TABLE)
