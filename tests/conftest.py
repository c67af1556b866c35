"""Fixtures: a real sagelocal server on a free loopback port in a temporary home, and real clients.

With `$SAGELOCAL_TEST_POSTGRES` set (see tests/pg_support.py), every server any test starts keeps
its store in a fresh PostgreSQL database of its own home's, instead of SQLite in the home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sagelocal.launcher import ServerProcess
from tests.pg_support import TestDatabases, admin_url

AWS_CLI = str(Path(sys.executable).with_name("aws"))


class AwsClients:
    """boto3 clients and AWS CLI runs pointed at one server, as the administrator by default."""

    def __init__(self, server: ServerProcess, creds: dict[str, str] | None = None) -> None:
        self.server = server
        env = server.client_env()
        self.creds = creds or {
            "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        }
        self.session = boto3.Session(region_name=server.region, **self.creds)

    def client(self, service: str, **kwargs: Any) -> Any:
        kwargs.setdefault("config", Config(retries={"max_attempts": 1, "mode": "standard"}))
        return self.session.client(service, endpoint_url=self.server.endpoint_url, **kwargs)

    def as_credentials(self, access_key_id: str, secret: str, token: str | None = None) -> AwsClients:
        creds = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret}
        if token:
            creds["aws_session_token"] = token
        return AwsClients(self.server, creds)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env |= self.server.client_env()
        env["AWS_ACCESS_KEY_ID"] = self.creds["aws_access_key_id"]
        env["AWS_SECRET_ACCESS_KEY"] = self.creds["aws_secret_access_key"]
        if "aws_session_token" in self.creds:
            env["AWS_SESSION_TOKEN"] = self.creds["aws_session_token"]
        env["AWS_MAX_ATTEMPTS"] = "1"
        return env

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the real AWS CLI (`aws ...`) against the server; JSON output."""
        proc = subprocess.run(
            [AWS_CLI, *args, "--output", "json"], env=self.env, capture_output=True, text=True, timeout=120
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def cli_json(self, *args: str) -> Any:
        out = self.cli(*args).stdout
        return json.loads(out) if out.strip() else None


@pytest.fixture(scope="session")
def postgres() -> Iterator[TestDatabases | None]:
    """The PostgreSQL databases made for this session (None without `$SAGELOCAL_TEST_POSTGRES`)."""
    admin = admin_url()
    if admin is None:
        yield None
        return
    databases = TestDatabases(admin)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(scope="session", autouse=True)
def servers_on_postgres(postgres: TestDatabases | None) -> Iterator[None]:
    """Give every ServerProcess started without `--database-url` its home's own PostgreSQL
    database (the same one again when a test restarts a server on that home)."""
    if postgres is None:
        yield
        return
    original = ServerProcess.start
    databases: dict[Path, str] = {}

    def start(self: ServerProcess, timeout: float = 60.0) -> ServerProcess:
        if "--database-url" not in self.extra_args:
            home = self.home.resolve()
            if home not in databases:
                databases[home] = postgres.create()
            self.extra_args = [*self.extra_args, "--database-url", databases[home]]
        return original(self, timeout)

    ServerProcess.start = start  # type: ignore[method-assign]
    try:
        yield
    finally:
        ServerProcess.start = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("home")
    with (home.parent / "server.log").open("w") as log, ServerProcess(home, log=log) as srv:
        yield srv


@pytest.fixture(scope="session")
def aws(server: ServerProcess) -> AwsClients:
    return AwsClients(server)
