"""The store on SQLite and PostgreSQL: migrations build exactly the models' schema, timestamps
stay UTC, reads are snapshots, and concurrent read-modify-write transactions lose no update.

The PostgreSQL cases need `$SAGELOCAL_TEST_POSTGRES` (tests/pg_support.py); without it they skip."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sagelocal.store.db import Database, normalise_url
from sagelocal.store.models import Base
from sagelocal.store.models.platform import PlatformFact
from sagelocal.store.models.sts import StsSession
from tests.pg_support import ADMIN_URL_ENV, TestDatabases


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, postgres: TestDatabases | None) -> Iterator[Database]:
    """A migrated store in a fresh database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    elif postgres is None:
        pytest.skip(f"PostgreSQL: set ${ADMIN_URL_ENV} to an administrator URL")
    else:
        url = postgres.create()
    database = Database(url)
    database.migrate()
    yield database
    database.dispose()


def test_migrations_match_the_models(db: Database) -> None:
    db.migrate()  # idempotent: every start runs it
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models changed without a migration: {diff}"


def test_postgresql_urls_select_psycopg() -> None:
    for given in ("postgresql://u:p@h/d", "postgres://u:p@h/d", "postgresql+psycopg://u:p@h/d"):
        assert normalise_url(given).render_as_string(hide_password=False) == "postgresql+psycopg://u:p@h/d"
    assert normalise_url("postgresql+psycopg2://h/d").drivername == "postgresql+psycopg2"  # as chosen
    assert normalise_url("sqlite:////tmp/x.db").render_as_string() == "sqlite:////tmp/x.db"


def test_sqlite_is_durable_and_concurrent(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    db.migrate()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_write_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as s:
        s.add(PlatformFact(key="k", value="v"))
        s.flush()
        raise RuntimeError("boom")
    with db.read() as s:
        assert s.get(PlatformFact, "k") is None


def test_reads_are_snapshots(db: Database) -> None:
    with db.write() as s:
        s.add(PlatformFact(key="k", value="old"))
    with db.read() as s:
        assert s.get(PlatformFact, "k").value == "old"  # type: ignore[union-attr]
        with db.write() as w:
            w.get(PlatformFact, "k").value = "new"  # type: ignore[union-attr]
        s.expire_all()
        assert s.get(PlatformFact, "k").value == "old"  # type: ignore[union-attr]
    with db.read() as s:
        assert s.get(PlatformFact, "k").value == "new"  # type: ignore[union-attr]


def test_concurrent_read_modify_writes_lose_no_update(db: Database) -> None:
    """Threads each increment one row many times, reading it and writing it back in `write()`:
    every increment counts (on PostgreSQL too, whose READ COMMITTED alone would lose some)."""
    threads, rounds = 8, 25
    with db.write() as s:
        s.add(PlatformFact(key="counter", value="0"))
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def increment() -> None:
        try:
            start.wait()
            for _ in range(rounds):
                with db.write() as s:
                    row = s.get(PlatformFact, "counter")
                    assert row is not None
                    value = int(row.value)
                    time.sleep(0.001)  # what a request does between its read and its write
                    row.value = str(value + 1)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=increment) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert errors == []
    with db.read() as s:
        assert s.get(PlatformFact, "counter").value == str(threads * rounds)  # type: ignore[union-attr]


def test_timestamps_come_back_aware_utc(db: Database) -> None:
    tokyo = timezone(timedelta(hours=9))
    when = datetime(2026, 11, 27, 21, 0, tzinfo=tokyo)
    with db.write() as s:
        s.add(
            StsSession(
                access_key_id="ASIAX",
                secret_access_key="s",
                session_token="t",
                expiration=when,
                created=when,
                account_id="123456789012",
                kind="user",
                principal_arn="arn",
                user_id="AIDAX",
            )
        )
    with db.read() as s:
        row = s.get(StsSession, "ASIAX")
        assert row is not None
        assert row.expiration == when and row.expiration.tzinfo == UTC
        assert row.expiration.hour == 12
    with pytest.raises(Exception, match="naive"), db.write() as s:
        s.add(PlatformFact(key="x", value="y"))
        s.get(StsSession, "ASIAX").expiration = datetime(2026, 1, 1)  # type: ignore[union-attr]


def test_a_process_printing_nul_does_not_stall_its_log(db: Database) -> None:
    """PostgreSQL cannot store NUL in text; the internal log writer (job, endpoint and notebook output)
    turns it into U+FFFD rather than retrying a refused batch for ever."""
    from sqlalchemy import select

    from sagelocal.services.logs import BufferedLogWriter
    from sagelocal.store.models.logs import LogEvent

    with BufferedLogWriter(
        db, "123456789012", "ap-northeast-1", "/aws/sagemaker/TrainingJobs", "j/algo-1-1"
    ) as w:
        w.write("before\n")
        w.write("bin\x00ary\n")
        w.write("after\n")
    with db.read() as session:
        messages = list(session.scalars(select(LogEvent.message).order_by(LogEvent.id)))
    assert messages == ["before", "bin\ufffdary", "after"]
