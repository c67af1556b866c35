"""`sagelocal iam explain`: for a principal, an action and a resource, the decision the server
would make and the statements that made it (the same engine and policies as every request)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.iam.policy import (
    AuthzRequest,
    Decision,
    access_denied_message,
    compile_policy,
    evaluate,
)
from sagelocal.services.iam.principal_policies import Document, role_policies, user_policies
from sagelocal.store.models.iam import IamRole, IamUser
from sagelocal.store.models.s3 import S3Bucket


@dataclass(frozen=True)
class Explanation:
    principal: str
    request: AuthzRequest
    decision: Decision
    policies: tuple[str, ...]  # the sources considered

    @property
    def message(self) -> str:
        if self.decision.allowed:
            return f"{self.principal} may perform {self.request.action} on {self.request.resource}"
        return access_denied_message(self.request, self.decision)


class UnknownPrincipal(Exception):
    """No user or role of that ARN."""


def _identity(session: Session, arn: str) -> tuple[str, str | None, list[Document]]:
    """(principal ARN as requests carry it, role ARN, identity policies) for a user, role or
    assumed-role session ARN; a role ARN is explained as a session of the role."""
    user = session.scalar(select(IamUser).where(IamUser.arn == arn))
    if user is not None:
        return arn, None, user_policies(session, user)
    role = session.scalar(select(IamRole).where(IamRole.arn == arn))
    if role is None and ":assumed-role/" in arn:
        account = arn.split(":")[4]
        name = arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        role = session.scalar(select(IamRole).where(IamRole.account_id == account, IamRole.name == name))
    if role is None:
        raise UnknownPrincipal(f"No IAM user or role has the ARN {arn}.")
    principal = (
        arn if ":assumed-role/" in arn else f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/explain"
    )
    return principal, role.arn, role_policies(session, role)


def explain(
    session: Session, principal_arn: str, action: str, resource: str, context: dict[str, str | list[str]]
) -> Explanation:
    principal, role_arn, documents = _identity(session, principal_arn)
    account = principal.split(":")[4]
    bucket_policy = None
    if resource.startswith("arn:aws:s3:::"):
        bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        text = session.scalar(select(S3Bucket.policy).where(S3Bucket.name == bucket))
        bucket_policy = compile_policy(text, f"bucket policy of {bucket}") if text else None
    request = AuthzRequest(principal, account, action, resource, context, role_arn)
    decision = evaluate(
        request, [compile_policy(text, source) for text, source in documents], bucket_policy, explain=True
    )
    sources = tuple(source for _, source in documents) + (("bucket policy",) if bucket_policy else ())
    return Explanation(principal, request, decision, sources)
