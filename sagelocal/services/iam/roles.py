"""IAM roles: Create/Get/List/Update/Delete Role, trust policies, tags, instance profiles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.iam import documents, lookup
from sagelocal.services.iam.common import (
    already_exists,
    arn,
    delete_conflict,
    encode_document,
    list_tags,
    merge_tags,
    name_key,
    new_id,
    page,
    path_filter,
    remove_tags,
    unique_or,
)
from sagelocal.services.iam.users import check_boundary
from sagelocal.store.db import Database
from sagelocal.store.models.iam import ENTITY_ROLE, IamInlinePolicy, IamPolicyAttachment, IamRole

DEFAULT_MAX_SESSION = 3600


def role_shape(role: IamRole, *, full: bool = True) -> dict[str, Any]:
    """The `Role` output shape. ListRoles leaves out tags, boundary and last use, as AWS does."""
    out: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": role.create_date,
        "AssumeRolePolicyDocument": encode_document(role.assume_role_policy),
        "MaxSessionDuration": role.max_session_duration,
    }
    if role.description is not None:
        out["Description"] = role.description
    if not full:
        return out
    if role.permissions_boundary:
        out["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": role.permissions_boundary,
        }
    if role.tags:
        out["Tags"] = list(role.tags)
    last: dict[str, Any] = {}
    if role.last_used_date is not None:
        last["LastUsedDate"] = role.last_used_date
    if role.last_used_region:
        last["Region"] = role.last_used_region
    out["RoleLastUsed"] = last
    return out


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


class RolesMixin:
    """Operations on IAM roles."""

    db: Database

    def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["RoleName"]
        trust = params["AssumeRolePolicyDocument"]
        documents.validate_trust(trust)
        with self.db.write() as s:
            if lookup.find_role(s, ctx.account_id, name) is not None:
                raise already_exists(f"Role with name {name} already exists.")
            check_boundary(s, ctx.account_id, params.get("PermissionsBoundary"))
            path = params.get("Path") or "/"
            role = IamRole(
                role_id=new_id("AROA"),
                account_id=ctx.account_id,
                name=name,
                name_key=name_key(name),
                path=path,
                arn=arn(ctx.account_id, "role", path, name),
                assume_role_policy=trust,
                description=params.get("Description"),
                max_session_duration=params.get("MaxSessionDuration") or DEFAULT_MAX_SESSION,
                create_date=utcnow(),
                permissions_boundary=params.get("PermissionsBoundary"),
                tags=merge_tags([], params.get("Tags", []), "TagsPerRole"),
            )
            s.add(role)
            with unique_or(already_exists(f"Role with name {name} already exists.")):
                s.flush()
            out = role_shape(role)
            out.pop("RoleLastUsed")  # CreateRole does not report last use
            return {"Role": out}

    def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            return {"Role": role_shape(lookup.get_role(s, ctx.account_id, params["RoleName"]))}

    def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            rows = s.scalars(
                select(IamRole).where(IamRole.account_id == ctx.account_id).order_by(IamRole.name_key)
            ).all()
            rows = [r for r in rows if path_filter(r.path, params.get("PathPrefix"))]
            chunk, paging = page(rows, params, key=lambda r: r.name_key)
            return {"Roles": [role_shape(r, full=False) for r in chunk], **paging}

    def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            role = lookup.get_role(s, ctx.account_id, params["RoleName"])
            if "Description" in params:
                role.description = params["Description"]
            if params.get("MaxSessionDuration"):
                role.max_session_duration = params["MaxSessionDuration"]
        return {}

    def update_role_description(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            role = lookup.get_role(s, ctx.account_id, params["RoleName"])
            role.description = params["Description"]
            s.flush()
            return {"Role": role_shape(role)}

    def update_assume_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            role = lookup.get_role(s, ctx.account_id, params["RoleName"])
            documents.validate_trust(params["PolicyDocument"])
            role.assume_role_policy = params["PolicyDocument"]
        return {}

    def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            role = lookup.get_role(s, ctx.account_id, params["RoleName"])
            owned = (IamInlinePolicy.entity_type == ENTITY_ROLE, IamInlinePolicy.entity_id == role.role_id)
            if _count(s, IamInlinePolicy, *owned):
                raise delete_conflict("Cannot delete entity, must delete policies first.")
            attached = (
                IamPolicyAttachment.entity_type == ENTITY_ROLE,
                IamPolicyAttachment.entity_id == role.role_id,
            )
            if _count(s, IamPolicyAttachment, *attached):
                raise delete_conflict("Cannot delete entity, must detach all policies first.")
            s.delete(role)
        return {}

    def tag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            role = lookup.get_role(s, ctx.account_id, params["RoleName"])
            role.tags = merge_tags(role.tags, params["Tags"], "TagsPerRole")
        return {}

    def untag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            role = lookup.get_role(s, ctx.account_id, params["RoleName"])
            role.tags = remove_tags(role.tags, params["TagKeys"])
        return {}

    def list_role_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            return list_tags(lookup.get_role(s, ctx.account_id, params["RoleName"]).tags, params)

    def list_instance_profiles_for_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """sagelocal has no EC2 instance profiles: the role exists, the list is empty."""
        with self.db.read() as s:
            lookup.get_role(s, ctx.account_id, params["RoleName"])
        return {"InstanceProfiles": [], "IsTruncated": False}
