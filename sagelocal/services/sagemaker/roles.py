"""Execution roles: the check SageMaker makes when a role is passed to it, and the temporary
credentials it obtains by assuming the role (for jobs and endpoint replicas)."""

from __future__ import annotations

from typing import Any

from sagelocal.services.base import Principal, RequestContext
from sagelocal.services.iam.identity import RoleRecord, find_role_by_arn
from sagelocal.services.sagemaker.common import validation
from sagelocal.services.sts.provider import StsProvider
from sagelocal.store.db import Database


def trusts_sagemaker(role: RoleRecord) -> bool:
    """Whether the role's trust policy lets sagemaker.amazonaws.com assume it."""
    statements = role.trust_policy.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        services = (st.get("Principal") or {}).get("Service", []) if isinstance(st, dict) else []
        services = [services] if isinstance(services, str) else services
        if st.get("Effect") == "Allow" and "sagemaker.amazonaws.com" in services:
            return True
    return False


def require_role(db: Database, ctx: RequestContext, role_arn: str) -> RoleRecord:
    """The role SageMaker is asked to act as, or AWS's "Could not assume role" error."""
    with db.read() as session:
        role = find_role_by_arn(session, role_arn)
    if role is None or role.account_id != ctx.account_id or not trusts_sagemaker(role):
        raise validation(
            f"Could not assume role {role_arn}. Please ensure that the role exists and "
            "allows principal 'sagemaker.amazonaws.com' to assume the role."
        )
    return role


def role_session(
    sts: StsProvider, account_id: str, region: str, role: RoleRecord, request_id: str
) -> dict[str, Any]:
    """AssumeRole's Credentials (keys, SessionToken and Expiration) for `role`, issued as the
    SageMaker service acting in the account (session name `SageMaker`); raises ServiceError."""
    service = Principal(
        account_id=account_id, arn=f"arn:aws:iam::{account_id}:root", user_id=account_id, kind="root"
    )
    ctx = RequestContext("sts", "AssumeRole", region, account_id, service, request_id)
    params = {
        "RoleArn": role.arn,
        "RoleSessionName": "SageMaker",
        "DurationSeconds": role.max_session_duration,
    }
    return dict(sts.assume_role(ctx, params)["Credentials"])


def role_credentials(
    sts: StsProvider, account_id: str, region: str, role: RoleRecord, request_id: str
) -> dict[str, str]:
    """The keys of a `role_session` (for a job's or replica's environment)."""
    creds = role_session(sts, account_id, region, role, request_id)
    return {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
