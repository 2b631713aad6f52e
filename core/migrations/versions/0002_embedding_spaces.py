"""embedding spaces: the active and pending model, and each segment's vectors in the pending one

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 10:12:44.118206
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    spaces = op.create_table(
        "embedding_spaces",
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("role"),
    )
    # The 'active' row always exists (name NULL: whatever the settings configure), so a writer
    # can lock it before it reads which space is active.
    op.bulk_insert(
        spaces,
        [{"role": "active", "name": None, "checkpoint": None, "updated_at": datetime.now(UTC)}],
    )
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_video_vector", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("next_text_vector", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_embedding_model", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_column("next_embedding_model")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("next_text_vector")
        batch_op.drop_column("next_video_vector")
    op.drop_table("embedding_spaces")
