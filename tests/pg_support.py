"""PostgreSQL for the tests: `$SAGELOCAL_TEST_POSTGRES` holds an administrator URL (e.g.
`postgresql://postgres:secret@127.0.0.1/postgres`); every store and server under test then gets a
fresh database of its own on that cluster, dropped when the test session ends."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from sagelocal.store.db import normalise_url

ADMIN_URL_ENV = "SAGELOCAL_TEST_POSTGRES"


def admin_url() -> str | None:
    return os.environ.get(ADMIN_URL_ENV) or None


class TestDatabases:
    """Creates `sagelocal_test_<random>` databases through the administrator URL; drops them all."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.names: list[str] = []
        with self.engine.connect() as conn:  # fail now, and loudly, if the cluster is unreachable
            conn.exec_driver_sql("SELECT 1")

    def create(self) -> str:
        """A new empty database; its URL in the administrator URL's form (user, host, driver)."""
        name = f"sagelocal_test_{secrets.token_hex(6)}"
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return make_url(self.admin).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every database made here (FORCE: a leaked server's connections do not block it)."""
        with self.engine.connect() as conn:
            for name in self.names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.names.clear()
        self.engine.dispose()
