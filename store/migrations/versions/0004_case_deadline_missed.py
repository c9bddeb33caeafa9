"""cases.deadline_missed: an indexed flag for the stuck-case check

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("deadline_missed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_cases_deadline_missed", ["deadline_missed"])
    # Existing rows: the same test the query used to make on the JSON text.
    as_text = "CAST(deadlines AS TEXT)" if op.get_bind().dialect.name == "postgresql" else "deadlines"
    op.execute(f"UPDATE cases SET deadline_missed = ({as_text} LIKE '%\"missed\"%')")


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_deadline_missed")
        batch.drop_column("deadline_missed")
