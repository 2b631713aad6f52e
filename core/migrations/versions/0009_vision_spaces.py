"""embedding spaces name their vision model; segments keep the clip features a pending space's
vision model read (a switch to another vision model decodes the videos again)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("embedding_spaces", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("vision_model", sa.Text(), nullable=True))
    with op.batch_alter_table("segments", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("next_clip_features", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("next_clip_features")
    with op.batch_alter_table("embedding_spaces", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("vision_model")
