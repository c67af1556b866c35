"""IAM groups and membership: Create/Get/List/Update/Delete Group, Add/Remove user, ListGroupsForUser."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.iam import lookup
from sagelocal.services.iam.common import (
    already_exists,
    arn,
    delete_conflict,
    name_key,
    new_id,
    no_such_entity,
    page,
    path_filter,
    quota,
    unique_or,
)
from sagelocal.services.iam.users import user_shape
from sagelocal.store.db import Database
from sagelocal.store.models.iam import (
    ENTITY_GROUP,
    IamGroup,
    IamGroupMember,
    IamInlinePolicy,
    IamPolicyAttachment,
    IamUser,
)

MAX_GROUPS_PER_USER = 10


def group_shape(group: IamGroup) -> dict[str, Any]:
    """The `Group` output shape."""
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.group_id,
        "Arn": group.arn,
        "CreateDate": group.create_date,
    }


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _membership(session: Session, group: IamGroup, user: IamUser) -> IamGroupMember | None:
    return session.get(IamGroupMember, (group.group_id, user.user_id))


class GroupsMixin:
    """Operations on IAM groups."""

    db: Database

    def create_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["GroupName"]
        with self.db.write() as s:
            if lookup.find_group(s, ctx.account_id, name) is not None:
                raise already_exists(f"Group with name {name} already exists.")
            path = params.get("Path") or "/"
            group = IamGroup(
                group_id=new_id("AGPA"),
                account_id=ctx.account_id,
                name=name,
                name_key=name_key(name),
                path=path,
                arn=arn(ctx.account_id, "group", path, name),
                create_date=utcnow(),
            )
            s.add(group)
            with unique_or(already_exists(f"Group with name {name} already exists.")):
                s.flush()
            return {"Group": group_shape(group)}

    def get_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            group = lookup.get_group(s, ctx.account_id, params["GroupName"])
            users = s.scalars(
                select(IamUser)
                .join(IamGroupMember, IamGroupMember.user_id == IamUser.user_id)
                .where(IamGroupMember.group_id == group.group_id)
                .order_by(IamUser.name_key)
            ).all()
            chunk, paging = page(users, params, key=lambda u: u.name_key)
            return {
                "Group": group_shape(group),
                "Users": [user_shape(u, full=False) for u in chunk],
                **paging,
            }

    def list_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            rows = s.scalars(
                select(IamGroup).where(IamGroup.account_id == ctx.account_id).order_by(IamGroup.name_key)
            ).all()
            rows = [g for g in rows if path_filter(g.path, params.get("PathPrefix"))]
            chunk, paging = page(rows, params, key=lambda g: g.name_key)
            return {"Groups": [group_shape(g) for g in chunk], **paging}

    def update_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            group = lookup.get_group(s, ctx.account_id, params["GroupName"])
            new_name = params.get("NewGroupName")
            renamed = new_name and name_key(new_name) != group.name_key
            if renamed and lookup.find_group(s, ctx.account_id, new_name) is not None:
                raise already_exists(f"Group with name {new_name} already exists.")
            if new_name:
                group.name, group.name_key = new_name, name_key(new_name)
            if params.get("NewPath"):
                group.path = params["NewPath"]
            group.arn = arn(ctx.account_id, "group", group.path, group.name)
        return {}

    def delete_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            group = lookup.get_group(s, ctx.account_id, params["GroupName"])
            if _count(s, IamGroupMember, IamGroupMember.group_id == group.group_id):
                raise delete_conflict("Cannot delete entity, must remove users from group first.")
            owned = (IamInlinePolicy.entity_type == ENTITY_GROUP, IamInlinePolicy.entity_id == group.group_id)
            if _count(s, IamInlinePolicy, *owned):
                raise delete_conflict("Cannot delete entity, must delete policies first.")
            attached = (
                IamPolicyAttachment.entity_type == ENTITY_GROUP,
                IamPolicyAttachment.entity_id == group.group_id,
            )
            if _count(s, IamPolicyAttachment, *attached):
                raise delete_conflict("Cannot delete entity, must detach all policies first.")
            s.delete(group)
        return {}

    def add_user_to_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            group = lookup.get_group(s, ctx.account_id, params["GroupName"])
            user = lookup.get_user(s, ctx.account_id, params["UserName"])
            if _membership(s, group, user) is not None:
                return {}
            if _count(s, IamGroupMember, IamGroupMember.user_id == user.user_id) >= MAX_GROUPS_PER_USER:
                raise quota("GroupsPerUser", MAX_GROUPS_PER_USER)
            s.add(IamGroupMember(group_id=group.group_id, user_id=user.user_id, added_at=utcnow()))
        return {}

    def remove_user_from_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            group = lookup.get_group(s, ctx.account_id, params["GroupName"])
            user = lookup.get_user(s, ctx.account_id, params["UserName"])
            member = _membership(s, group, user)
            if member is None:
                raise no_such_entity(f"The user with name {user.name} cannot be found.")
            s.delete(member)
        return {}

    def list_groups_for_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            user = lookup.get_user(s, ctx.account_id, params["UserName"])
            groups = s.scalars(
                select(IamGroup)
                .join(IamGroupMember, IamGroupMember.group_id == IamGroup.group_id)
                .where(IamGroupMember.user_id == user.user_id)
                .order_by(IamGroup.name_key)
            ).all()
            chunk, paging = page(groups, params, key=lambda g: g.name_key)
            return {"Groups": [group_shape(g) for g in chunk], **paging}
