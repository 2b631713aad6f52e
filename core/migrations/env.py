"""Alembic environment: migrations run on the connection that core.db hands over."""

from alembic import context

from core.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    from core.db import make_engine
    from core.settings import get_settings

    connection = make_engine(get_settings().catalog_url).connect()

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
