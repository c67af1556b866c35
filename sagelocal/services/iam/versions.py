"""Managed policy versions: Create/Get/List/Delete PolicyVersion and SetDefaultPolicyVersion."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.iam import documents, lookup
from sagelocal.services.iam.common import (
    delete_conflict,
    encode_document,
    limit_exceeded,
    no_such_entity,
    page,
)
from sagelocal.services.iam.policies import customer_policy
from sagelocal.store.db import Database
from sagelocal.store.models.iam import IamPolicy, IamPolicyVersion

MAX_VERSIONS = 5
TOO_MANY_VERSIONS = (
    "A managed policy can have up to 5 versions. Before you create a new version, "
    "you must delete an existing version."
)


def version_shape(
    version_id: str, is_default: bool, create_date: datetime, document: str | None = None
) -> dict[str, Any]:
    """The `PolicyVersion` output shape; the document URL-encoded as on IAM's wire."""
    out: dict[str, Any] = {}
    if document is not None:
        out["Document"] = encode_document(document)
    out |= {"VersionId": version_id, "IsDefaultVersion": is_default, "CreateDate": create_date}
    return out


def _versions(session: Session, policy: IamPolicy) -> list[IamPolicyVersion]:
    """The policy's versions, newest first (ListPolicyVersions' order)."""
    return list(
        session.scalars(
            select(IamPolicyVersion)
            .where(IamPolicyVersion.policy_id == policy.policy_id)
            .order_by(IamPolicyVersion.seq.desc())
        )
    )


def _missing_version(policy_arn: str, version_id: str) -> Exception:
    return no_such_entity(f"Policy {policy_arn} version {version_id} does not exist or is not attachable.")


def _version_of(session: Session, policy: IamPolicy, version_id: str) -> IamPolicyVersion:
    row = session.get(IamPolicyVersion, (policy.policy_id, version_id))
    if row is None:
        raise _missing_version(policy.arn, version_id)
    return row


def _make_default(session: Session, policy: IamPolicy, version: IamPolicyVersion) -> None:
    for v in _versions(session, policy):
        v.is_default = v.version_id == version.version_id
    policy.default_version_id = version.version_id


class VersionsMixin:
    """Operations on managed policy versions."""

    db: Database

    def create_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        text = params["PolicyDocument"]
        with self.db.write() as s:
            policy = customer_policy(s, ctx, params["PolicyArn"])
            documents.validate_managed(text)
            if len(_versions(s, policy)) >= MAX_VERSIONS:
                raise limit_exceeded(TOO_MANY_VERSIONS)
            now = utcnow()
            seq = policy.next_version
            version = IamPolicyVersion(
                policy_id=policy.policy_id,
                version_id=f"v{seq}",
                seq=seq,
                document=text,
                is_default=False,
                create_date=now,
            )
            s.add(version)
            s.flush()
            policy.next_version = seq + 1
            policy.update_date = now
            if params.get("SetAsDefault"):
                _make_default(s, policy, version)
            return {"PolicyVersion": version_shape(version.version_id, version.is_default, now)}

    def get_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy_arn, version_id = params["PolicyArn"], params["VersionId"]
        with self.db.read() as s:
            ref = lookup.get_policy(s, ctx.account_id, policy_arn)
            if ref.aws is not None:
                aws = ref.aws.version(version_id)
                if aws is None:
                    raise _missing_version(policy_arn, version_id)
                shape = version_shape(aws.version_id, aws.is_default, aws.create_date, aws.text)
                return {"PolicyVersion": shape}
            assert ref.row is not None
            row = _version_of(s, ref.row, version_id)
            return {
                "PolicyVersion": version_shape(row.version_id, row.is_default, row.create_date, row.document)
            }

    def list_policy_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            ref = lookup.get_policy(s, ctx.account_id, params["PolicyArn"])
            if ref.aws is not None:
                items = [
                    (int(v.version_id[1:]), version_shape(v.version_id, v.is_default, v.create_date))
                    for v in ref.aws.versions
                ]
                items.sort(key=lambda i: -i[0])
            else:
                assert ref.row is not None
                items = [
                    (v.seq, version_shape(v.version_id, v.is_default, v.create_date))
                    for v in _versions(s, ref.row)
                ]
            chunk, paging = page(items, params, key=lambda i: f"{i[0]:08d}", descending=True)
            return {"Versions": [shape for _, shape in chunk], **paging}

    def delete_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            policy = customer_policy(s, ctx, params["PolicyArn"])
            version = _version_of(s, policy, params["VersionId"])
            if version.is_default:
                raise delete_conflict("Cannot delete the default version of a policy.")
            s.delete(version)
        return {}

    def set_default_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            policy = customer_policy(s, ctx, params["PolicyArn"])
            _make_default(s, policy, _version_of(s, policy, params["VersionId"]))
        return {}
