"""IAM's internal API for the gateway and STS: who owns an access key, what a role ARN names,
and the administrator every new installation starts with. No RequestContext needed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sagelocal.services.base import utcnow
from sagelocal.services.iam import lookup, managed
from sagelocal.services.iam.access_keys import insert_access_key, user_keys
from sagelocal.services.iam.attachments import attach
from sagelocal.services.iam.users import insert_user
from sagelocal.store.db import Database
from sagelocal.store.models.iam import ENTITY_USER, IamAccessKey, IamUser

ADMIN_USER = "admin"
ADMIN_POLICY_ARN = f"{managed.ARN_PREFIX}/AdministratorAccess"

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role(/|/.*/)([^/]+)$")


@dataclass(frozen=True)
class AccessKeyRecord:
    """An IAM user's access key and the user it authenticates."""

    access_key_id: str
    secret_access_key: str
    status: str  # Active | Inactive
    account_id: str
    user_name: str
    user_arn: str
    user_id: str
    create_date: datetime


@dataclass(frozen=True)
class RoleRecord:
    """What STS needs of a role to let a caller assume it."""

    arn: str
    role_id: str
    name: str
    path: str
    account_id: str
    trust_policy: dict[str, Any]
    max_session_duration: int
    create_date: datetime


def find_access_key(session: Session, access_key_id: str) -> AccessKeyRecord | None:
    """The long-term access key with this id (any status), or None."""
    key = session.get(IamAccessKey, access_key_id)
    if key is None:
        return None
    user = session.get(IamUser, key.user_id)
    if user is None:
        return None
    return AccessKeyRecord(
        access_key_id=key.access_key_id,
        secret_access_key=key.secret,
        status=key.status,
        account_id=user.account_id,
        user_name=user.name,
        user_arn=user.arn,
        user_id=user.user_id,
        create_date=key.create_date,
    )


def record_access_key_use(
    session: Session, access_key_id: str, service: str, region: str, when: datetime | None = None
) -> None:
    """Note a key's last use (GetAccessKeyLastUsed reports it). Unknown keys are ignored."""
    key = session.get(IamAccessKey, access_key_id)
    if key is not None:
        key.last_used_date = when or utcnow()
        key.last_used_service = service
        key.last_used_region = region


def find_role_by_arn(session: Session, role_arn: str) -> RoleRecord | None:
    """The role an ARN names (`arn:aws:iam::<acct>:role<path><name>`), or None.

    The name compares regardless of case, as IAM names do; the path must match.
    """
    m = _ROLE_ARN.match(role_arn)
    if m is None:
        return None
    account_id, path, name = m.groups()
    role = lookup.find_role(session, account_id, name)
    if role is None or role.path != path:
        return None
    try:
        trust = json.loads(role.assume_role_policy)
    except ValueError:
        trust = {}
    return RoleRecord(
        arn=role.arn,
        role_id=role.role_id,
        name=role.name,
        path=role.path,
        account_id=role.account_id,
        trust_policy=trust if isinstance(trust, dict) else {},
        max_session_duration=role.max_session_duration,
        create_date=role.create_date,
    )


def record_role_use(session: Session, role_arn: str, region: str, when: datetime | None = None) -> None:
    """Note a role's last use (GetRole's RoleLastUsed). Unknown roles are ignored."""
    record = find_role_by_arn(session, role_arn)
    if record is not None:
        role = lookup.find_role(session, record.account_id, record.name)
        if role is not None:
            role.last_used_date = when or utcnow()
            role.last_used_region = region


def bootstrap_admin(
    db: Database,
    account_id: str,
    *,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> tuple[str, str]:
    """Make sure user `admin` exists with AdministratorAccess and an access key; return the key.

    Idempotent: when `admin` already exists its oldest key is returned (a key is created only if
    it has none). `access_key_id`/`secret_access_key` choose the key's values when one is created.
    """
    with db.write() as s:
        user = lookup.find_user(s, account_id, ADMIN_USER)
        if user is None:
            user = insert_user(s, account_id, {"UserName": ADMIN_USER})
            attach(s, account_id, ENTITY_USER, user.user_id, ADMIN_POLICY_ARN)
        keys = user_keys(s, user)
        key = keys[0] if keys else insert_access_key(s, user, access_key_id, secret_access_key)
        return key.access_key_id, key.secret
