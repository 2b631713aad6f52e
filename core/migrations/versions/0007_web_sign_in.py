"""web UI sign-in: users' compared name keys and password hashes, and signed-in browsers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

from core.names import name_key

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
    # Existing users get their key; look-alikes stored before names were compared this way
    # keep their rows (and their exact names work as before), the later one keyed by its id.
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("name", sa.String))
    keys = sa.table("users", sa.column("id", sa.Integer), sa.column("name_key", sa.String))
    bind = op.get_bind()
    taken: set[str] = set()
    for user_id, name in bind.execute(sa.select(users.c.id, users.c.name).order_by(users.c.id)):
        key = name_key(name)
        if key in taken or not key:
            key = f"{key}#{user_id}"
        taken.add(key)
        bind.execute(sa.update(keys).where(keys.c.id == user_id).values(name_key=key))
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.create_index("uq_users_name_key", ["name_key"], unique=True)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("uq_users_name_key")
        batch_op.drop_column("password_hash")
        batch_op.drop_column("name_key")
