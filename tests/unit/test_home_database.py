"""A home opened with another database names it, so commands given only `--home` (env, iam
explain, cost, ...) open that store and its administrator rather than a new SQLite one."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagelocal.home import initialise
from sagelocal.settings import Settings
from sagelocal.store.db import Database


def _open(settings: Settings) -> str:
    db = Database(settings.resolved_database_url())
    try:
        return initialise(settings, db).admin_access_key_id
    finally:
        db.dispose()


def test_home_remembers_a_database_that_is_not_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAGELOCAL_DATABASE_URL", raising=False)
    home, elsewhere = tmp_path / "home", f"sqlite:///{tmp_path / 'elsewhere.db'}"
    admin = _open(Settings(home=home, database_url=elsewhere))
    record = home / "database-url"
    assert record.read_text() == elsewhere and oct(record.stat().st_mode & 0o777) == "0o600"

    later = Settings(home=home)  # `--home` alone
    assert later.resolved_database_url() == elsewhere
    assert _open(later) == admin  # the same administrator, not a new store's
    assert not (home / "sagelocal.db").exists()

    _open(Settings(home=home, database_url=f"sqlite:///{home / 'sagelocal.db'}"))  # back to the default
    assert not record.exists()
    assert Settings(home=home).resolved_database_url() == f"sqlite:///{home / 'sagelocal.db'}"
