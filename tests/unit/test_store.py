"""The store: migrations build exactly the models' schema; timestamps stay UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sagelocal.store.db import Database
from sagelocal.store.models import Base
from sagelocal.store.models.platform import PlatformFact
from sagelocal.store.models.sts import StsSession


def test_migrations_match_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.migrate()
    db.migrate()  # idempotent: every start runs it
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models changed without a migration: {diff}"


def test_sqlite_is_durable_and_concurrent(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    db.migrate()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_write_rolls_back_on_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    db.migrate()
    with pytest.raises(RuntimeError), db.write() as s:
        s.add(PlatformFact(key="k", value="v"))
        s.flush()
        raise RuntimeError("boom")
    with db.read() as s:
        assert s.get(PlatformFact, "k") is None


def test_timestamps_come_back_aware_utc(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 't.db'}")
    db.migrate()
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
