"""Metadata store: SQLAlchemy models, Alembic migrations, transactions."""
