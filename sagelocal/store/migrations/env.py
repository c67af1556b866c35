"""Alembic environment: runs migrations on the connection the Database hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from sagelocal.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic revision --autogenerate` from the command line
        engine = create_engine(
            config.attributes.get("connection_url") or config.get_main_option("sqlalchemy.url")
        )
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    context.run_migrations()


run()
