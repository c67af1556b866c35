"""Managed policy attachments: Attach/Detach/ListAttached {Role,User,Group} Policies and
ListEntitiesForPolicy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.iam import lookup, managed
from sagelocal.services.iam.common import no_such_entity, page, path_filter, quota
from sagelocal.store.db import Database
from sagelocal.store.models.iam import (
    ENTITY_GROUP,
    ENTITY_ROLE,
    ENTITY_USER,
    IamGroup,
    IamPolicyAttachment,
    IamRole,
    IamUser,
)

MAX_ATTACHED = 10
QUOTA_NAMES = {
    ENTITY_USER: "PoliciesPerUser",
    ENTITY_ROLE: "PoliciesPerRole",
    ENTITY_GROUP: "PoliciesPerGroup",
}
NAME_PARAM = {ENTITY_USER: "UserName", ENTITY_ROLE: "RoleName", ENTITY_GROUP: "GroupName"}


def attachments_of(session: Session, entity_type: str, entity_id: str) -> list[IamPolicyAttachment]:
    """The entity's attachments, in the order they were made."""
    return list(
        session.scalars(
            select(IamPolicyAttachment)
            .where(IamPolicyAttachment.entity_type == entity_type, IamPolicyAttachment.entity_id == entity_id)
            .order_by(IamPolicyAttachment.id)
        )
    )


def attach(session: Session, ctx_account: str, entity_type: str, entity_id: str, policy_arn: str) -> None:
    """Attach a managed policy (idempotent, as in AWS); the attachable policy must exist."""
    ref = lookup.get_attachable_policy(session, ctx_account, policy_arn)
    current = attachments_of(session, entity_type, entity_id)
    if any(a.policy_arn == ref.arn for a in current):
        return
    if len(current) >= MAX_ATTACHED:
        raise quota(QUOTA_NAMES[entity_type], MAX_ATTACHED)
    session.add(
        IamPolicyAttachment(
            account_id=ctx_account,
            entity_type=entity_type,
            entity_id=entity_id,
            policy_arn=ref.arn,
            attached_at=utcnow(),
        )
    )
    session.flush()


def _policy_name(session: Session, account_id: str, policy_arn: str) -> str:
    ref = lookup.find_policy(session, account_id, policy_arn)
    return ref.name if ref else policy_arn.rsplit("/", 1)[-1]


def _policy_path(session: Session, account_id: str, policy_arn: str) -> str:
    ref = lookup.find_policy(session, account_id, policy_arn)
    return ref.path if ref else "/"


class AttachmentsMixin:
    """Attaching managed policies to users, roles and groups."""

    db: Database

    def _attach(self, ctx: RequestContext, params: dict[str, Any], entity_type: str) -> dict[str, Any]:
        with self.db.write() as s:
            entity = lookup.get_entity(s, ctx.account_id, entity_type, params[NAME_PARAM[entity_type]])
            attach(s, ctx.account_id, entity_type, lookup.entity_id(entity), params["PolicyArn"])
        return {}

    def _detach(self, ctx: RequestContext, params: dict[str, Any], entity_type: str) -> dict[str, Any]:
        policy_arn = params["PolicyArn"]
        with self.db.write() as s:
            entity = lookup.get_entity(s, ctx.account_id, entity_type, params[NAME_PARAM[entity_type]])
            found = [
                a
                for a in attachments_of(s, entity_type, lookup.entity_id(entity))
                if a.policy_arn == policy_arn
            ]
            if not found:
                raise no_such_entity(f"Policy {policy_arn} was not found.")
            for a in found:
                s.delete(a)
        return {}

    def _list_attached(self, ctx: RequestContext, params: dict[str, Any], entity_type: str) -> dict[str, Any]:
        with self.db.read() as s:
            entity = lookup.get_entity(s, ctx.account_id, entity_type, params[NAME_PARAM[entity_type]])
            rows = attachments_of(s, entity_type, lookup.entity_id(entity))
            prefix = params.get("PathPrefix")
            rows = [a for a in rows if path_filter(_policy_path(s, ctx.account_id, a.policy_arn), prefix)]
            chunk, paging = page(rows, params, key=lambda a: f"{a.id:012d}")
            items = [
                {"PolicyName": _policy_name(s, ctx.account_id, a.policy_arn), "PolicyArn": a.policy_arn}
                for a in chunk
            ]
            return {"AttachedPolicies": items, **paging}

    def attach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._attach(ctx, params, ENTITY_ROLE)

    def detach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._detach(ctx, params, ENTITY_ROLE)

    def list_attached_role_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list_attached(ctx, params, ENTITY_ROLE)

    def attach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._attach(ctx, params, ENTITY_USER)

    def detach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._detach(ctx, params, ENTITY_USER)

    def list_attached_user_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list_attached(ctx, params, ENTITY_USER)

    def attach_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._attach(ctx, params, ENTITY_GROUP)

    def detach_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._detach(ctx, params, ENTITY_GROUP)

    def list_attached_group_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list_attached(ctx, params, ENTITY_GROUP)

    def list_entities_for_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy_arn = params["PolicyArn"]
        wanted = params.get("EntityFilter")
        prefix = params.get("PathPrefix")
        usage = params.get("PolicyUsageFilter")
        with self.db.read() as s:
            lookup.get_policy(s, ctx.account_id, policy_arn)
            if wanted == "AWSManagedPolicy" and not managed.is_aws_managed(policy_arn):
                return {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": [], "IsTruncated": False}
            if wanted == "LocalManagedPolicy" and managed.is_aws_managed(policy_arn):
                return {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": [], "IsTruncated": False}
            entities = _entities_using(s, ctx.account_id, policy_arn, usage)
            entities = [e for e in entities if path_filter(e.path, prefix)]
            if wanted in ("User", "Role", "Group"):
                entities = [e for e in entities if type(e).__name__ == f"Iam{wanted}"]
            chunk, paging = page(entities, params, key=_entity_key)
            return {
                "PolicyGroups": [
                    {"GroupName": e.name, "GroupId": e.group_id} for e in chunk if isinstance(e, IamGroup)
                ],
                "PolicyUsers": [
                    {"UserName": e.name, "UserId": e.user_id} for e in chunk if isinstance(e, IamUser)
                ],
                "PolicyRoles": [
                    {"RoleName": e.name, "RoleId": e.role_id} for e in chunk if isinstance(e, IamRole)
                ],
                **paging,
            }


def _entity_key(e: IamUser | IamRole | IamGroup) -> str:
    order = {IamGroup: "1", IamUser: "2", IamRole: "3"}[type(e)]
    return f"{order}|{e.name_key}"


def _entities_using(
    session: Session, account_id: str, policy_arn: str, usage: str | None
) -> list[IamUser | IamRole | IamGroup]:
    """Groups, users and roles having the policy attached (or as boundary), in that order."""
    out: list[IamUser | IamRole | IamGroup] = []
    if usage in (None, "PermissionsPolicy"):
        rows = session.scalars(
            select(IamPolicyAttachment).where(
                IamPolicyAttachment.account_id == account_id, IamPolicyAttachment.policy_arn == policy_arn
            )
        ).all()
        models = {ENTITY_GROUP: IamGroup, ENTITY_USER: IamUser, ENTITY_ROLE: IamRole}
        for a in rows:
            entity = session.get(models[a.entity_type], a.entity_id)
            if entity is not None:
                out.append(entity)
    if usage in (None, "PermissionsBoundary"):
        for model in (IamUser, IamRole):
            out += session.scalars(
                select(model).where(model.account_id == account_id, model.permissions_boundary == policy_arn)
            ).all()
    unique = {(type(e), lookup.entity_id(e)): e for e in out}
    return sorted(unique.values(), key=_entity_key)
