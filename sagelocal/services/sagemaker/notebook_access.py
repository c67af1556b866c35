"""Reaching running notebook instances from outside: the role credentials their kernels fetch
(the container-credentials protocol), where a browser opening an instance's Url goes, and how
full their volumes are.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sagelocal.compute.notebook_servers import NotebookServer
from sagelocal.services.base import ServiceError, utcnow
from sagelocal.services.iam.identity import find_role_by_arn
from sagelocal.services.sagemaker.notebook_env import layout_for, volume_usage
from sagelocal.services.sagemaker.roles import role_session, trusts_sagemaker
from sagelocal.services.sts.provider import StsProvider
from sagelocal.store.db import Database
from sagelocal.store.models.notebooks import NotebookInstance

# Role credentials are handed out again only while they have this long to live (boto3 refreshes
# container credentials 15 minutes before they expire).
CREDENTIALS_MIN_LIFE = timedelta(minutes=20)
GB = 2**30


class NotebookAccess:
    """Answers about running instances; `servers` (instance id → its JupyterLab) is the runner's."""

    def __init__(self, db: Database, home: Path, servers: dict[int, NotebookServer]) -> None:
        self.db = db
        self.home = home
        self.servers = servers
        self.sts = StsProvider(db)
        self._cache: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def forget(self, instance_id: int) -> None:
        """Drop the instance's cached credentials (it stopped or is gone)."""
        with self._lock:
            self._cache.pop(instance_id, None)

    def credentials(self, token: str) -> dict[str, str] | None:
        """Temporary credentials of the role of the running instance whose token this is."""
        with self.db.read() as session:
            row = session.scalar(select(NotebookInstance).where(NotebookInstance.credentials_token == token))
            if row is None or row.status not in ("Pending", "InService"):
                return None
            role = find_role_by_arn(session, row.request["RoleArn"])
            if role is None or not trusts_sagemaker(role):
                return None
            key, account, region, name = row.id, row.account_id, row.region, row.name
        with self._lock:
            cached = self._cache.get(key)
            if cached is None or cached["Expiration"] - utcnow() < CREDENTIALS_MIN_LIFE:
                try:
                    cached = role_session(self.sts, account, region, role, "notebook-" + name)
                except ServiceError:
                    return None
                self._cache[key] = cached
        expiration: datetime = cached["Expiration"]
        return {
            "AccessKeyId": cached["AccessKeyId"],
            "SecretAccessKey": cached["SecretAccessKey"],
            "Token": cached["SessionToken"],
            "Expiration": expiration.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def browser_target(self, account_id: str, region: str, name: str) -> tuple[str, str | None]:
        """Where a browser opening the instance's Url goes: ("http://127.0.0.1:<port><path>", None),
        or ("", why not) when the instance does not exist or is not InService."""
        with self.db.read() as session:
            row = session.scalar(
                select(NotebookInstance).where(
                    NotebookInstance.account_id == account_id,
                    NotebookInstance.region == region,
                    NotebookInstance.name_lower == name.lower(),
                )
            )
            if row is None:
                return "", f"There is no notebook instance {name} in {region}."
            status, instance_id = row.status, row.id
        server = self.servers.get(instance_id)
        if status != "InService" or server is None:
            return "", f"Notebook instance {name} is {status}: start it and open it again."
        return f"http://127.0.0.1:{server.port}{server.default_path}", None

    def volumes(self) -> list[dict[str, Any]]:
        """Every instance's volume: its size, the bytes used and whether that exceeds the size."""
        with self.db.read() as session:
            rows = [
                (r.id, r.uid, r.name, r.region, r.status, int(r.request.get("VolumeSizeInGB", 5)))
                for r in session.scalars(select(NotebookInstance))
            ]
        out = []
        for instance_id, uid, name, region, status, size_gb in rows:
            layout = layout_for(self.home, uid)
            used = volume_usage(layout) if layout.volume.exists() else 0
            out.append(
                {
                    "Id": instance_id,
                    "NotebookInstanceName": name,
                    "Region": region,
                    "NotebookInstanceStatus": status,
                    "VolumeSizeInGB": size_gb,
                    "VolumeUsedBytes": used,
                    "OverVolumeSize": used > size_gb * GB,
                }
            )
        return out
