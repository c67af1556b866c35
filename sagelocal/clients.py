"""boto3 clients for CLI commands (`evaluate`, `cost`, `cleanup`, `demo`) that talk to a server.

Which server: `AWS_ENDPOINT_URL` when the caller's environment sets it (with the caller's own
credentials, as any AWS client would use them), otherwise the running server recorded in the
home (`server.json`) as the home's administrator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import boto3
from botocore.config import Config

from sagelocal.settings import Settings


class NoServer(RuntimeError):
    """No running server is recorded in the home and none is named by the environment."""


@dataclass(frozen=True)
class ServerClients:
    """A boto3 session and the endpoint URL every client it makes is pointed at."""

    session: boto3.Session
    endpoint_url: str
    region: str

    def client(self, service: str, **kwargs: Any) -> Any:
        kwargs.setdefault("config", Config(retries={"max_attempts": 2, "mode": "standard"}))
        return self.session.client(service, endpoint_url=self.endpoint_url, **kwargs)


def for_server(endpoint_url: str, region: str, access_key_id: str, secret: str) -> ServerClients:
    session = boto3.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret, region_name=region)
    return ServerClients(session, endpoint_url, region)


def from_settings(settings: Settings, *, prefer_environment: bool = True) -> ServerClients:
    """Clients for the server the environment names, else the one running on `settings.home`."""
    url = os.environ.get("AWS_ENDPOINT_URL") if prefer_environment else None
    if url:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or settings.region
        return ServerClients(boto3.Session(region_name=region), url, region)
    from sagelocal.home import initialise, read_server_record
    from sagelocal.store.db import Database

    record = read_server_record(settings.home)
    if record is None:
        raise NoServer(
            f"no sagelocal server is running on {settings.home} "
            "(start one with `sagelocal server`, or set AWS_ENDPOINT_URL)"
        )
    region = str(record.get("region", settings.region))
    settings = replace(
        settings,
        host=str(record.get("host", settings.host)),
        port=int(record.get("port", settings.port)),  # type: ignore[call-overload]
        region=region,
    )
    db = Database(settings.resolved_database_url())
    try:
        home = initialise(settings, db)
    finally:
        db.dispose()
    return for_server(settings.endpoint_url, region, home.admin_access_key_id, home.admin_secret_access_key)
