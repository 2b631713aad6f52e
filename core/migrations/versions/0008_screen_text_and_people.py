"""segments' on-screen text (what OCR read in its frames) and people (faces and people seen, the
largest face's size: core/people.py)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("screen_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("people", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("people")
        batch_op.drop_column("screen_text")
