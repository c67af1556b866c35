"""Managed policies: Create/Get/List/Delete Policy and policy tags.

AWS managed policies come from `managed.py` and are read-only; customer managed policies are rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, ServiceError, utcnow
from sagelocal.services.iam import documents, lookup, managed
from sagelocal.services.iam.common import (
    already_exists,
    arn,
    delete_conflict,
    list_tags,
    merge_tags,
    name_key,
    new_id,
    page,
    path_filter,
    remove_tags,
    unique_or,
)
from sagelocal.store.db import Database
from sagelocal.store.models.iam import IamPolicy, IamPolicyVersion

SCOPES = ("All", "AWS", "Local")


def policy_shape(
    session: Session, account_id: str, ref: lookup.PolicyRef, *, full: bool = True
) -> dict[str, Any]:
    """The `Policy` output shape. ListPolicies leaves out description and tags, as AWS does."""
    if ref.aws is not None:
        p = ref.aws
        out: dict[str, Any] = {
            "PolicyName": p.name,
            "PolicyId": p.policy_id,
            "Arn": p.arn,
            "Path": p.path,
            "DefaultVersionId": p.default_version_id,
        }
        description, create, update, tags = p.description, p.create_date, p.update_date, []
    else:
        row = ref.row
        assert row is not None
        out = {
            "PolicyName": row.name,
            "PolicyId": row.policy_id,
            "Arn": row.arn,
            "Path": row.path,
            "DefaultVersionId": row.default_version_id,
        }
        description, create, update, tags = row.description, row.create_date, row.update_date, row.tags
    out["AttachmentCount"] = lookup.attachment_count(session, account_id, ref.arn)
    out["PermissionsBoundaryUsageCount"] = lookup.boundary_count(session, account_id, ref.arn)
    out["IsAttachable"] = True
    if full and description:
        out["Description"] = description
    out["CreateDate"] = create
    out["UpdateDate"] = update
    if full and tags:
        out["Tags"] = list(tags)
    return out


def customer_policy(session: Session, ctx: RequestContext, policy_arn: str) -> IamPolicy:
    """A customer managed policy, for changes; AWS managed policies belong to AWS."""
    ref = lookup.get_policy(session, ctx.account_id, policy_arn)
    if ref.row is None:
        who = ctx.principal.arn if ctx.principal else f"arn:aws:iam::{ctx.account_id}:root"
        raise ServiceError(
            "AccessDenied",
            f"User: {who} is not authorized to perform: iam:{ctx.operation} on resource: policy {policy_arn}",
            403,
        )
    return ref.row


def all_policy_refs(session: Session, account_id: str, scope: str) -> list[lookup.PolicyRef]:
    """AWS managed and/or the account's customer managed policies, by name."""
    refs: list[lookup.PolicyRef] = []
    if scope in ("All", "AWS"):
        refs += [lookup.PolicyRef(p.arn, p.name, p.path, aws=p) for p in managed.all_policies()]
    if scope in ("All", "Local"):
        rows = session.scalars(select(IamPolicy).where(IamPolicy.account_id == account_id))
        refs += [lookup.PolicyRef(r.arn, r.name, r.path, row=r) for r in rows]
    return sorted(refs, key=_ref_key)


def _ref_key(ref: lookup.PolicyRef) -> str:
    return f"{ref.name.lower()}|{ref.arn}"


class PoliciesMixin:
    """Operations on managed policies."""

    db: Database

    def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["PolicyName"]
        text = params["PolicyDocument"]
        documents.validate_managed(text)
        duplicate = already_exists(f"A policy called {name} already exists. Duplicate names are not allowed.")
        with self.db.write() as s:
            taken = s.scalars(
                select(IamPolicy).where(
                    IamPolicy.account_id == ctx.account_id, IamPolicy.name_key == name_key(name)
                )
            ).first()
            if taken is not None:
                raise duplicate
            path = params.get("Path") or "/"
            now = utcnow()
            row = IamPolicy(
                policy_id=new_id("ANPA"),
                account_id=ctx.account_id,
                name=name,
                name_key=name_key(name),
                path=path,
                arn=arn(ctx.account_id, "policy", path, name),
                description=params.get("Description"),
                default_version_id="v1",
                next_version=2,
                create_date=now,
                update_date=now,
                tags=merge_tags([], params.get("Tags", []), "TagsPerPolicy"),
            )
            s.add(row)
            s.add(
                IamPolicyVersion(
                    policy_id=row.policy_id,
                    version_id="v1",
                    seq=1,
                    document=text,
                    is_default=True,
                    create_date=now,
                )
            )
            with unique_or(duplicate):
                s.flush()
            ref = lookup.PolicyRef(row.arn, row.name, row.path, row=row)
            return {"Policy": policy_shape(s, ctx.account_id, ref)}

    def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            ref = lookup.get_policy(s, ctx.account_id, params["PolicyArn"])
            return {"Policy": policy_shape(s, ctx.account_id, ref)}

    def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = params.get("Scope") or "All"
        only_attached = bool(params.get("OnlyAttached"))
        usage = params.get("PolicyUsageFilter")
        with self.db.read() as s:
            shapes = []
            for ref in all_policy_refs(s, ctx.account_id, scope):
                if not path_filter(ref.path, params.get("PathPrefix")):
                    continue
                shape = policy_shape(s, ctx.account_id, ref, full=False)
                if only_attached:
                    as_policy = usage in (None, "PermissionsPolicy") and shape["AttachmentCount"] > 0
                    as_boundary = (
                        usage in (None, "PermissionsBoundary") and shape["PermissionsBoundaryUsageCount"] > 0
                    )
                    if not (as_policy or as_boundary):
                        continue
                shapes.append(shape)
            chunk, paging = page(shapes, params, key=lambda p: f"{p['PolicyName'].lower()}|{p['Arn']}")
            return {"Policies": chunk, **paging}

    def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            row = customer_policy(s, ctx, params["PolicyArn"])
            in_use = lookup.attachment_count(s, ctx.account_id, row.arn) + lookup.boundary_count(
                s, ctx.account_id, row.arn
            )
            if in_use:
                raise delete_conflict("Cannot delete a policy attached to entities.")
            versions = s.scalars(
                select(IamPolicyVersion).where(IamPolicyVersion.policy_id == row.policy_id)
            ).all()
            if len(versions) > 1:
                raise delete_conflict(
                    "This policy has more than one version. Before you delete a policy, you must delete "
                    "the policy's versions. The default version is deleted with the policy."
                )
            for v in versions:
                s.delete(v)
            s.flush()
            s.delete(row)
        return {}

    def tag_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            row = customer_policy(s, ctx, params["PolicyArn"])
            row.tags = merge_tags(row.tags, params["Tags"], "TagsPerPolicy")
        return {}

    def untag_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            row = customer_policy(s, ctx, params["PolicyArn"])
            row.tags = remove_tags(row.tags, params["TagKeys"])
        return {}

    def list_policy_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            ref = lookup.get_policy(s, ctx.account_id, params["PolicyArn"])
            return list_tags(ref.row.tags if ref.row else [], params)
