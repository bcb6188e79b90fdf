"""Alembic environment for fupin: always run from :mod:`fupin.storage.migrate`,
which passes an open connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from fupin.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
