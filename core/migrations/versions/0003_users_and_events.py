"""users and events: API token hashes and roles; client event ids that make retried events idempotent

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10 09:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        # Users that existed before roles did are plain users; nobody gets admin by migration.
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), nullable=False, server_default="user")
        )
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_event_id", sa.String(length=100), nullable=True))
        batch_op.create_index(
            "uq_events_user_client_event", ["user_id", "client_event_id"], unique=True
        )


def downgrade() -> None:
    # recreate="never": SQLite (3.35+) drops these columns in place. Copying the tables instead
    # would drop the old `users` table, and with foreign keys on that deletes every event.
    with op.batch_alter_table("events", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("uq_events_user_client_event")
        batch_op.drop_column("client_event_id")
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("token_hash")
        batch_op.drop_column("role")
