"""Users' access keys: Create/List/Update/Delete AccessKey and GetAccessKeyLastUsed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.iam.common import (
    new_access_key_id,
    new_secret_access_key,
    no_such_entity,
    page,
    quota,
)
from sagelocal.services.iam.users import user_named
from sagelocal.store.db import Database
from sagelocal.store.models.iam import IamAccessKey, IamUser

MAX_KEYS_PER_USER = 2


def user_keys(session: Session, user: IamUser) -> list[IamAccessKey]:
    """The user's access keys, oldest first."""
    return list(
        session.scalars(
            select(IamAccessKey)
            .where(IamAccessKey.user_id == user.user_id)
            .order_by(IamAccessKey.create_date, IamAccessKey.access_key_id)
        )
    )


def insert_access_key(
    session: Session, user: IamUser, access_key_id: str | None = None, secret: str | None = None
) -> IamAccessKey:
    """A new Active key for `user`; both keys count towards the quota, active or not."""
    if len(user_keys(session, user)) >= MAX_KEYS_PER_USER:
        raise quota("AccessKeysPerUser", MAX_KEYS_PER_USER)
    key = IamAccessKey(
        access_key_id=access_key_id or new_access_key_id(),
        user_id=user.user_id,
        account_id=user.account_id,
        secret=secret or new_secret_access_key(),
        status="Active",
        create_date=utcnow(),
    )
    session.add(key)
    session.flush()
    return key


def _key_of(session: Session, user: IamUser, access_key_id: str) -> IamAccessKey:
    key = session.get(IamAccessKey, access_key_id)
    if key is None or key.user_id != user.user_id:
        raise no_such_entity(f"The Access Key with id {access_key_id} cannot be found.")
    return key


class AccessKeysMixin:
    """Operations on users' access keys."""

    db: Database

    def create_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = user_named(s, ctx, params.get("UserName"))
            key = insert_access_key(s, user)
            return {
                "AccessKey": {
                    "UserName": user.name,
                    "AccessKeyId": key.access_key_id,
                    "Status": key.status,
                    "SecretAccessKey": key.secret,
                    "CreateDate": key.create_date,
                }
            }

    def list_access_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            user = user_named(s, ctx, params.get("UserName"))
            keys = user_keys(s, user)
            chunk, paging = page(keys, params, key=lambda k: f"{k.create_date.isoformat()}|{k.access_key_id}")
            items = [
                {
                    "UserName": user.name,
                    "AccessKeyId": k.access_key_id,
                    "Status": k.status,
                    "CreateDate": k.create_date,
                }
                for k in chunk
            ]
            return {"AccessKeyMetadata": items, **paging}

    def update_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = user_named(s, ctx, params.get("UserName"))
            _key_of(s, user, params["AccessKeyId"]).status = params["Status"]
        return {}

    def delete_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = user_named(s, ctx, params.get("UserName"))
            s.delete(_key_of(s, user, params["AccessKeyId"]))
        return {}

    def get_access_key_last_used(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key_id = params["AccessKeyId"]
        with self.db.read() as s:
            key = s.get(IamAccessKey, key_id)
            if key is None or key.account_id != ctx.account_id:
                raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
            user = s.get(IamUser, key.user_id)
            last: dict[str, Any] = {
                "ServiceName": key.last_used_service or "N/A",
                "Region": key.last_used_region or "N/A",
            }
            if key.last_used_date is not None:
                last["LastUsedDate"] = key.last_used_date
            return {"UserName": user.name if user else "", "AccessKeyLastUsed": last}
