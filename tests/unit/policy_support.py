"""Helpers for the policy engine's unit tests: build documents and requests tersely."""

from __future__ import annotations

import itertools
from typing import Any

from sagelocal.services.iam.policy import AuthzRequest, CompiledPolicy, Decision, compile_policy, evaluate

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/MyRole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/MyRole/SageMaker"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"

_counter = itertools.count()


def stmt(effect: str = "Allow", action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict:
    """A statement; pass resource=None to leave Resource out (e.g. with NotResource=...)."""
    s: dict[str, Any] = {"Effect": effect, "Action": action}
    if resource is not None:
        s["Resource"] = resource
    for key, value in extra.items():
        s[key] = value
    if "NotAction" in s:
        s.pop("Action")
    return s


def policy(
    *statements: dict, version: str | None = "2012-10-17", source: str | None = None
) -> CompiledPolicy:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        doc["Version"] = version
    return compile_policy(doc, source or f"policy-{next(_counter)}")


def request(
    action: str = "s3:GetObject",
    resource: str = "arn:aws:s3:::bucket/key",
    principal: str = USER,
    account: str = ACCOUNT,
    role_arn: str | None = None,
    **context: Any,
) -> AuthzRequest:
    return AuthzRequest(principal, account, action, resource, context, role_arn)


def decide(statements: list[dict] | dict, req: AuthzRequest | None = None, **kw: Any) -> Decision:
    """Evaluate `req` against one identity policy made of `statements`."""
    if isinstance(statements, dict):
        statements = [statements]
    return evaluate(req or request(), [policy(*statements)], **kw)


def allows(statements: list[dict] | dict, req: AuthzRequest | None = None, **kw: Any) -> bool:
    return decide(statements, req, **kw).allowed


def condition_allows(condition: dict, version: str = "2012-10-17", **context: Any) -> bool:
    """Whether an Allow with this Condition allows s3:GetObject given these context keys."""
    doc = policy(stmt(Condition=condition), version=version)
    return evaluate(request(**context), [doc]).allowed
