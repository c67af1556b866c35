"""The platform's home directory: the store, the account, the administrator and client profiles.

First start initialises it: migrations, a 12-digit account id, the IAM user `admin` with
AdministratorAccess and an access key, and an AWS config/credentials pair with profile
`sagelocal` (under `<home>/aws/`). Every later start finds the same facts again.
"""

from __future__ import annotations

import configparser
import fcntl
import json
import os
import secrets
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import TextIO

from sagelocal.services.base import utcnow
from sagelocal.services.iam.identity import ADMIN_USER, bootstrap_admin
from sagelocal.services.iam.login_profiles import issue_admin_console_password
from sagelocal.settings import Settings
from sagelocal.store.db import Database, normalise_url
from sagelocal.store.models.platform import PlatformFact

PROFILE = "sagelocal"


@dataclass(frozen=True)
class HomeInfo:
    account_id: str
    admin_access_key_id: str
    admin_secret_access_key: str
    config_file: Path
    credentials_file: Path
    # The administrator's console password, only on the server start that issued it (shown once).
    admin_console_password: str | None = None


def _fact(db: Database, key: str, make: str) -> str:
    """The stored value of `key`, storing `make` first if there is none."""
    with db.write() as session:
        row = session.get(PlatformFact, key)
        if row is None:
            row = PlatformFact(key=key, value=make)
            session.add(row)
        return row.value


def _write_private(path: Path, text: str) -> None:
    """Write a secret-bearing file atomically, readable by its owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _profiles(settings: Settings, key_id: str, secret: str) -> tuple[str, str]:
    config = configparser.ConfigParser()
    config[f"profile {PROFILE}"] = {"region": settings.region, "endpoint_url": settings.endpoint_url}
    creds = configparser.ConfigParser()
    creds[PROFILE] = {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
    texts = []
    for parser in (config, creds):
        buf = StringIO()
        parser.write(buf)
        texts.append(buf.getvalue())
    return texts[0], texts[1]


def _record_database(settings: Settings, db: Database) -> None:
    """Name the home's database in the home when it is not the default, so later commands given
    only `--home` open the same store (and its admin), not a new SQLite one. It may hold a
    password: readable by the owner only."""
    if db.url == normalise_url(settings.default_database_url).render_as_string(hide_password=False):
        settings.database_url_record.unlink(missing_ok=True)
    elif not settings.database_url_record.exists() or settings.database_url_record.read_text() != db.url:
        _write_private(settings.database_url_record, db.url)


def initialise(settings: Settings, db: Database, issue_console_password: bool = False) -> HomeInfo:
    """Migrate the store and make sure the account, admin and profiles exist; with
    `issue_console_password` (the server's start), also the administrator's first console password."""
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    db.migrate()
    _record_database(settings, db)
    account_id = _fact(db, "account_id", str(secrets.randbelow(9 * 10**11) + 10**11))
    _fact(db, "created_at", utcnow().isoformat())
    key_id, secret = bootstrap_admin(db, account_id)
    aws_dir = settings.home / "aws"
    aws_dir.mkdir(exist_ok=True, mode=0o700)
    config_text, creds_text = _profiles(settings, key_id, secret)
    _write_private(aws_dir / "config", config_text)
    _write_private(aws_dir / "credentials", creds_text)
    password = issue_admin_console_password(db, account_id, ADMIN_USER) if issue_console_password else None
    return HomeInfo(account_id, key_id, secret, aws_dir / "config", aws_dir / "credentials", password)


class HomeInUse(RuntimeError):
    """Another server already serves this home."""


def lock_home(home: Path) -> TextIO:
    """Hold the home's lock for this process's lifetime (released by the kernel when it exits).

    Two servers on one home would each run start-up recovery and sweep the other's uploads."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle = open(home / "server.lock", "a+")  # noqa: SIM115 - kept open while the server runs
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise HomeInUse(f"another sagelocal server is using {home}") from None
    return handle


def write_server_record(settings: Settings) -> None:
    """Where the running server listens, so `sagelocal env` can point clients at it."""
    record = {"host": settings.host, "port": settings.port, "pid": os.getpid(), "region": settings.region}
    (settings.home / "server.json").write_text(json.dumps(record))


def read_server_record(home: Path) -> dict[str, object] | None:
    try:
        return json.loads((home / "server.json").read_text())
    except (OSError, ValueError):
        return None
