"""The policies that apply to a caller, as stored documents with where they come from.

- an IAM user: its attached managed policies (default versions), its inline policies, and the
  same for every group it belongs to;
- an assumed-role session: the role's attached and inline policies, plus the session policies
  AssumeRole was given (inline `Policy` and `PolicyArns`), which narrow what the session may do;
- the account root: none (root is not governed by identity policies).

Each document is returned as text with a `source` naming it (a policy ARN, or
`<user|role|group>/<name>/<policy name>` for inline ones), for explanations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.iam import managed
from sagelocal.services.iam.attachments import attachments_of
from sagelocal.services.iam.inline import inline_policies
from sagelocal.store.models.iam import (
    ENTITY_GROUP,
    ENTITY_ROLE,
    ENTITY_USER,
    IamGroup,
    IamGroupMember,
    IamPolicy,
    IamPolicyVersion,
    IamRole,
    IamUser,
)
from sagelocal.store.models.sts import StsSession

Document = tuple[str, str]  # (policy JSON text, source)


@dataclass(frozen=True)
class PrincipalPolicies:
    """Identity policies, and session policies (None when the credentials carry none)."""

    identity: tuple[Document, ...] = ()
    session: tuple[Document, ...] | None = None
    is_root: bool = False


def managed_document(session: Session, policy_arn: str) -> str | None:
    """The default version of a managed policy (AWS's or the account's), or None if it is gone."""
    aws = managed.get(policy_arn)
    if aws is not None:
        document = aws.document
        return document if isinstance(document, str) else json.dumps(document)
    row = session.scalar(
        select(IamPolicyVersion.document)
        .join(IamPolicy, IamPolicy.policy_id == IamPolicyVersion.policy_id)
        .where(IamPolicy.arn == policy_arn, IamPolicyVersion.is_default.is_(True))
    )
    return str(row) if row is not None else None


def _entity_documents(session: Session, entity_type: str, entity_id: str, label: str) -> list[Document]:
    out: list[Document] = []
    for attachment in attachments_of(session, entity_type, entity_id):
        text = managed_document(session, attachment.policy_arn)
        if text is not None:
            out.append((text, attachment.policy_arn))
    for inline in inline_policies(session, entity_type, entity_id):
        out.append((inline.document, f"{label}/{inline.name}"))
    return out


def user_policies(session: Session, user: IamUser) -> list[Document]:
    docs = _entity_documents(session, ENTITY_USER, user.user_id, f"user/{user.name}")
    groups = session.scalars(
        select(IamGroup)
        .join(IamGroupMember, IamGroupMember.group_id == IamGroup.group_id)
        .where(IamGroupMember.user_id == user.user_id)
    )
    for group in groups:
        docs += group_policies(session, group)
    return docs


def group_policies(session: Session, group: IamGroup) -> list[Document]:
    return _entity_documents(session, ENTITY_GROUP, group.group_id, f"group/{group.name}")


def role_policies(session: Session, role: IamRole) -> list[Document]:
    return _entity_documents(session, ENTITY_ROLE, role.role_id, f"role/{role.name}")


def session_policies(session: Session, sts: StsSession) -> tuple[Document, ...] | None:
    """AssumeRole's session policies, or None when the session was given none."""
    if not sts.session_policy and not sts.policy_arns:
        return None
    docs: list[Document] = []
    if sts.session_policy:
        docs.append((sts.session_policy, "session policy"))
    for policy_arn in sts.policy_arns or []:
        text = managed_document(session, policy_arn)
        if text is not None:
            docs.append((text, policy_arn))
    return tuple(docs)


def policies_for(session: Session, kind: str, arn: str, access_key_id: str) -> PrincipalPolicies:
    """The policies of the principal `arn` (of `kind` root | user | assumed-role) signing with
    `access_key_id`; a principal that no longer exists has none (so it is denied)."""
    if kind == "root":
        return PrincipalPolicies(is_root=True)
    if kind == "user":
        user = session.scalar(select(IamUser).where(IamUser.arn == arn))
        return PrincipalPolicies(identity=tuple(user_policies(session, user)) if user else ())
    sts = session.get(StsSession, access_key_id)
    role_arn = sts.role_arn if sts is not None else None
    role = session.scalar(select(IamRole).where(IamRole.arn == role_arn)) if role_arn else None
    if role is None:
        return PrincipalPolicies()
    return PrincipalPolicies(
        identity=tuple(role_policies(session, role)),
        session=session_policies(session, sts) if sts is not None else None,
    )
