"""The database: engine set-up (SQLite WAL by default, PostgreSQL by URL), migrations, transactions.

Both backends give the same transaction semantics: `read()` is a consistent snapshot, and `write()`
transactions run one at a time (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory
lock taken first), so a read-modify-write inside `write()` never loses a concurrent update."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# How long a writer waits for another (SQLite's busy_timeout, PostgreSQL's lock_timeout).
LOCK_TIMEOUT_MS = 30_000
# The PostgreSQL advisory lock every write transaction holds ("sagelocal" in ASCII). Advisory locks
# are per database, so several sagelocal databases on one cluster do not contend.
WRITE_LOCK_KEY = 0x73_61_67_65_6C_6F_63_61


def normalise_url(url: str) -> URL:
    """The SQLAlchemy URL for `url`; `postgresql://` and `postgres://` (as libpq and most
    hosting services write them) select psycopg 3, the driver the `postgres` extra installs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _configure_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, FULL sync so an acknowledged commit survives a crash, and
    explicit BEGIN so write transactions can take the write lock up front (no upgrade deadlock)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sagelocal_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine and its session factories. Use `write()` for transactions that change data."""

    def __init__(self, url: str) -> None:
        parsed = normalise_url(url)
        self.url = parsed.render_as_string(hide_password=False)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgresql = parsed.get_backend_name() == "postgresql"
        kwargs: dict[str, Any] = {"future": True, "pool_size": 8, "max_overflow": 16}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": LOCK_TIMEOUT_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
        if self.is_postgresql:
            kwargs["connect_args"] = {"options": f"-c lock_timeout={LOCK_TIMEOUT_MS} -c timezone=UTC"}
        self.engine = create_engine(parsed, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        reads = self.engine
        if self.is_postgresql:  # a snapshot, as SQLite's WAL readers get; never a writer
            reads = self.engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        self._read = sessionmaker(reads, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(sagelocal_write=True), expire_on_commit=False
        )

    def _lock_for_write(self, conn: Connection | Session) -> None:
        """Wait until no other write transaction runs (PostgreSQL; SQLite's BEGIN IMMEDIATE did)."""
        if self.is_postgresql:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})

    def migrate(self) -> None:
        """Bring the schema to the newest migration (runs on every start; idempotent)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection_url"] = self.url
        with self.engine.execution_options(sagelocal_write=True).begin() as conn:
            self._lock_for_write(conn)  # servers starting together migrate one after the other
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only snapshot."""
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed (durably) when the block exits, rolled back on error.
        Write transactions run one at a time, each seeing every earlier one's commit."""
        with self._write() as session, session.begin():
            self._lock_for_write(session)
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
