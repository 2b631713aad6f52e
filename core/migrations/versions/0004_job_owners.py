"""job owners: who runs each job (host, pid, process start time), its lease, and the job a
skipped duplicate waits for

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("runner_host", "runner_pid", "runner_started", "lease_until", "duplicate_of")


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("runner_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("runner_pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("runner_started", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))


def downgrade() -> None:
    # recreate="never": SQLite (3.35+) drops columns in place, keeping every job.
    with op.batch_alter_table("jobs", schema=None, recreate="never") as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
