"""Who holds an access key: IAM users' long-term keys and STS's temporary credentials.

The gateway asks this on every request, so found credentials are cached for a moment
(`TTL_SECONDS`); like AWS's eventually consistent IAM, a deleted or deactivated key stops
working within that time. Unknown keys are never cached, so new credentials work at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sagelocal.services.base import Principal
from sagelocal.services.iam.identity import find_access_key
from sagelocal.store.db import Database
from sagelocal.store.models.sts import StsSession

TTL_SECONDS = 1.0


@dataclass(frozen=True)
class Credential:
    """A secret and the principal it authenticates."""

    access_key_id: str
    secret_access_key: str
    principal: Principal
    active: bool = True
    session_token: str | None = None
    expiration: datetime | None = None
    session_policy: str | None = None


def _from_session(row: StsSession) -> Credential:
    principal = Principal(
        account_id=row.account_id,
        arn=row.principal_arn,
        user_id=row.user_id,
        kind="assumed-role" if row.kind == "assumed-role" else "user",
        access_key_id=row.access_key_id,
        role_arn=row.role_arn,
        session_name=row.session_name,
    )
    return Credential(
        access_key_id=row.access_key_id,
        secret_access_key=row.secret_access_key,
        principal=principal,
        session_token=row.session_token,
        expiration=row.expiration,
        session_policy=row.session_policy,
    )


class CredentialStore:
    """Resolves access key ids to credentials, with a short-lived cache."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, tuple[float, Credential]] = {}
        self._lock = threading.Lock()

    def lookup(self, access_key_id: str) -> Credential | None:
        now = time.monotonic()
        hit = self._cache.get(access_key_id)
        if hit is not None and now - hit[0] < TTL_SECONDS:
            return hit[1]
        cred = self._load(access_key_id)
        with self._lock:
            if cred is None:
                self._cache.pop(access_key_id, None)
            else:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[access_key_id] = (now, cred)
        return cred

    def _load(self, access_key_id: str) -> Credential | None:
        with self.db.read() as session:
            if access_key_id.startswith("ASIA"):
                row = session.get(StsSession, access_key_id)
                return None if row is None else _from_session(row)
            key = find_access_key(session, access_key_id)
            if key is None:
                return None
            principal = Principal(
                account_id=key.account_id,
                arn=key.user_arn,
                user_id=key.user_id,
                kind="user",
                access_key_id=access_key_id,
            )
            return Credential(
                access_key_id=access_key_id,
                secret_access_key=key.secret_access_key,
                principal=principal,
                active=key.status == "Active",
            )
