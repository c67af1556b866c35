"""IAM users and their tags: Create/Get/List/Update/Delete User, Tag/Untag/ListUserTags."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, ServiceError, utcnow
from sagelocal.services.iam import lookup
from sagelocal.services.iam.common import (
    already_exists,
    arn,
    delete_conflict,
    list_tags,
    merge_tags,
    name_key,
    new_id,
    no_such_entity,
    page,
    path_filter,
    remove_tags,
    unique_or,
)
from sagelocal.store.db import Database
from sagelocal.store.models.iam import (
    ENTITY_USER,
    IamAccessKey,
    IamGroupMember,
    IamInlinePolicy,
    IamLoginProfile,
    IamPolicyAttachment,
    IamUser,
)
from sagelocal.store.models.platform import PlatformFact

NON_USER_CALLER = "Must specify userName when calling with non-User credentials"


def user_shape(user: IamUser, *, full: bool = True) -> dict[str, Any]:
    """The `User` output shape. List operations leave out tags and the boundary, as AWS does."""
    out: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user.arn,
        "CreateDate": user.create_date,
    }
    if user.password_last_used is not None:
        out["PasswordLastUsed"] = user.password_last_used
    if full and user.permissions_boundary:
        out["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": user.permissions_boundary,
        }
    if full and user.tags:
        out["Tags"] = list(user.tags)
    return out


def caller_user(session: Session, ctx: RequestContext) -> IamUser:
    """The IAM user making the request, for operations whose UserName defaults to the caller."""
    p = ctx.principal
    if p is None or p.kind != "user":
        raise ServiceError("ValidationError", NON_USER_CALLER)
    user = session.get(IamUser, p.user_id)
    if user is None:
        raise no_such_entity(f"The user with name {p.name} cannot be found.")
    return user


def user_named(session: Session, ctx: RequestContext, name: str | None) -> IamUser:
    """The user `name`, or the calling user when no name is given."""
    if name is None:
        return caller_user(session, ctx)
    return lookup.get_user(session, ctx.account_id, name)


def check_boundary(session: Session, account_id: str, boundary: str | None) -> None:
    """A permissions boundary must name an existing managed policy."""
    if boundary and lookup.find_policy(session, account_id, boundary) is None:
        raise no_such_entity(f"Scope ARN: {boundary} does not exist or is not attachable.")


def insert_user(session: Session, account_id: str, params: dict[str, Any]) -> IamUser:
    """Create a user row (shared by CreateUser and the first-start bootstrap)."""
    name = params["UserName"]
    if lookup.find_user(session, account_id, name) is not None:
        raise already_exists(f"User with name {name} already exists.")
    check_boundary(session, account_id, params.get("PermissionsBoundary"))
    path = params.get("Path") or "/"
    user = IamUser(
        user_id=new_id("AIDA"),
        account_id=account_id,
        name=name,
        name_key=name_key(name),
        path=path,
        arn=arn(account_id, "user", path, name),
        create_date=utcnow(),
        permissions_boundary=params.get("PermissionsBoundary"),
        tags=merge_tags([], params.get("Tags", []), "TagsPerUser"),
    )
    session.add(user)
    with unique_or(already_exists(f"User with name {name} already exists.")):
        session.flush()
    return user


class UsersMixin:
    """Operations on IAM users."""

    db: Database

    def create_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = insert_user(s, ctx.account_id, params)
            return {"User": user_shape(user)}

    def get_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        p = ctx.principal
        with self.db.read() as s:
            if params.get("UserName") is None and p is not None and p.kind == "root":
                return {"User": _root_user(s, ctx.account_id)}
            return {"User": user_shape(user_named(s, ctx, params.get("UserName")))}

    def list_users(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            rows = s.scalars(
                select(IamUser).where(IamUser.account_id == ctx.account_id).order_by(IamUser.name_key)
            ).all()
            rows = [u for u in rows if path_filter(u.path, params.get("PathPrefix"))]
            chunk, paging = page(rows, params, key=lambda u: u.name_key)
            return {"Users": [user_shape(u, full=False) for u in chunk], **paging}

    def update_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = lookup.get_user(s, ctx.account_id, params["UserName"])
            new_name = params.get("NewUserName")
            renamed = new_name and name_key(new_name) != user.name_key
            if renamed and lookup.find_user(s, ctx.account_id, new_name) is not None:
                raise already_exists(f"User with name {new_name} already exists.")
            if new_name:
                user.name, user.name_key = new_name, name_key(new_name)
            if params.get("NewPath"):
                user.path = params["NewPath"]
            user.arn = arn(ctx.account_id, "user", user.path, user.name)
        return {}

    def delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = lookup.get_user(s, ctx.account_id, params["UserName"])
            _check_user_deletable(s, user)
            s.delete(user)
        return {}

    def tag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = lookup.get_user(s, ctx.account_id, params["UserName"])
            user.tags = merge_tags(user.tags, params["Tags"], "TagsPerUser")
        return {}

    def untag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            user = lookup.get_user(s, ctx.account_id, params["UserName"])
            user.tags = remove_tags(user.tags, params["TagKeys"])
        return {}

    def list_user_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            user = lookup.get_user(s, ctx.account_id, params["UserName"])
            return list_tags(user.tags, params)


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _check_user_deletable(session: Session, user: IamUser) -> None:
    """AWS refuses to delete a user that still owns a console password, keys, policies or group memberships."""
    if session.get(IamLoginProfile, user.user_id) is not None:
        raise delete_conflict("Cannot delete entity, must delete login profile first.")
    if _count(session, IamAccessKey, IamAccessKey.user_id == user.user_id):
        raise delete_conflict("Cannot delete entity, must delete access keys first.")
    owned = (IamInlinePolicy.entity_type == ENTITY_USER, IamInlinePolicy.entity_id == user.user_id)
    if _count(session, IamInlinePolicy, *owned):
        raise delete_conflict("Cannot delete entity, must delete policies first.")
    attached = (IamPolicyAttachment.entity_type == ENTITY_USER, IamPolicyAttachment.entity_id == user.user_id)
    if _count(session, IamPolicyAttachment, *attached):
        raise delete_conflict("Cannot delete entity, must detach all policies first.")
    if _count(session, IamGroupMember, IamGroupMember.user_id == user.user_id):
        raise delete_conflict("Cannot delete entity, must remove users from group first.")


def _root_user(session: Session, account_id: str) -> dict[str, Any]:
    """GetUser as the account root: AWS answers with the account as the user (no name, no path)."""
    created = session.get(PlatformFact, "created_at")
    when = datetime.fromisoformat(created.value) if created else datetime(1970, 1, 1, tzinfo=UTC)
    return {"UserId": account_id, "Arn": f"arn:aws:iam::{account_id}:root", "CreateDate": when}
