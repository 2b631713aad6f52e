"""segments' class beliefs (the frame classifier's likely classes, which the concept signal reads)
and looks (dark, black and white, colours: core/looks.py)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("class_beliefs", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("looks", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("looks")
        batch_op.drop_column("class_beliefs")
