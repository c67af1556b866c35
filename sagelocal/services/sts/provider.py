"""AWS STS: who am I, and temporary credentials (AssumeRole, GetSessionToken)."""

from __future__ import annotations

import base64
import json
import secrets
import string
from datetime import timedelta
from typing import Any

from sagelocal.services.base import Principal, Provider, RequestContext, ServiceError, utcnow
from sagelocal.services.iam.actions import sts_actions
from sagelocal.services.iam.identity import find_role_by_arn
from sagelocal.store.db import Database
from sagelocal.store.models.sts import StsSession

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
MAX_PACKED_POLICY_CHARS = 2048


def _new_access_key_id() -> str:
    return "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def _new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def _new_session_token() -> str:
    # Real tokens are opaque base64 blobs of several hundred characters.
    return base64.b64encode(b"sagelocal-session:" + secrets.token_bytes(240)).decode()


def _credentials(row: StsSession) -> dict[str, Any]:
    return {
        "AccessKeyId": row.access_key_id,
        "SecretAccessKey": row.secret_access_key,
        "SessionToken": row.session_token,
        "Expiration": row.expiration,
    }


def _caller(ctx: RequestContext) -> Principal:
    if ctx.principal is None:  # the gateway authenticates every STS call; this is a guard
        raise ServiceError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
    return ctx.principal


class StsProvider(Provider):
    service_name = "sts"
    authz_actions = staticmethod(sts_actions)  # type: ignore[assignment]

    def __init__(self, db: Database) -> None:
        self.db = db

    def _issue(self, duration: int, **fields: Any) -> StsSession:
        """Store a new set of temporary credentials valid for `duration` seconds."""
        now = utcnow()
        row = StsSession(
            access_key_id=_new_access_key_id(),
            secret_access_key=_new_secret(),
            session_token=_new_session_token(),
            expiration=now + timedelta(seconds=duration),
            created=now,
            **fields,
        )
        with self.db.write() as session:
            session.add(row)
        return row

    def get_caller_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        p = _caller(ctx)
        return {"UserId": p.user_id, "Account": p.account_id, "Arn": p.arn}

    def assume_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = _caller(ctx)
        role_arn: str = params["RoleArn"]
        session_name: str = params["RoleSessionName"]
        duration = int(params.get("DurationSeconds", 3600))
        policy = params.get("Policy")
        denied = ServiceError(
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            403,
        )
        with self.db.read() as session:
            role = find_role_by_arn(session, role_arn)
        if role is None or role.account_id != caller.account_id:
            raise denied
        if duration > role.max_session_duration:
            raise ServiceError(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        if caller.kind == "assumed-role" and duration > 3600:
            # Role chaining limits a session to one hour.
            raise ServiceError(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            )
        if policy is not None:
            _check_session_policy(policy)
        policy_arns = [p["arn"] for p in params.get("PolicyArns", []) if "arn" in p] or None
        tags = {t["Key"]: t["Value"] for t in params.get("Tags", [])} or None
        packed = _packed_size(policy, policy_arns, tags) if policy or policy_arns or tags else None
        row = self._issue(
            duration,
            account_id=role.account_id,
            kind="assumed-role",
            principal_arn=f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session_name}",
            user_id=f"{role.role_id}:{session_name}",
            role_arn=role.arn,
            session_name=session_name,
            source_identity=params.get("SourceIdentity"),
            session_policy=policy,
            policy_arns=policy_arns,
            tags=tags,
        )
        out: dict[str, Any] = {
            "Credentials": _credentials(row),
            "AssumedRoleUser": {"AssumedRoleId": row.user_id, "Arn": row.principal_arn},
        }
        if packed is not None:
            out["PackedPolicySize"] = packed
        if row.source_identity:
            out["SourceIdentity"] = row.source_identity
        return out

    def get_session_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = _caller(ctx)
        if caller.kind != "user" or caller.access_key_id.startswith("ASIA"):
            raise ServiceError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
        duration = int(params.get("DurationSeconds", 43200))
        row = self._issue(
            duration,
            account_id=caller.account_id,
            kind="user",
            principal_arn=caller.arn,
            user_id=caller.user_id,
        )
        return {"Credentials": _credentials(row)}


def _check_session_policy(policy: str) -> None:
    try:
        doc = json.loads(policy)
    except ValueError:
        raise ServiceError("MalformedPolicyDocument", "The policy is not in the valid JSON format.") from None
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise ServiceError("MalformedPolicyDocument", "Syntax errors in policy.")


def _packed_size(policy: str | None, arns: list[str] | None, tags: dict[str, str] | None) -> int:
    """Percentage of the packed-policy allowance used, as AWS reports it."""
    size = (
        len(policy or "")
        + sum(len(a) for a in arns or [])
        + sum(len(k) + len(v) for k, v in (tags or {}).items())
    )
    percent = -(-size * 100 // MAX_PACKED_POLICY_CHARS)
    if percent > 100:
        raise ServiceError(
            "PackedPolicyTooLarge",
            f"Packed policy consumes {percent}% of allotted space, please use smaller policy.",
        )
    return percent
