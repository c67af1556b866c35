"""Authorizing a request the way AWS does: the caller's identity policies (and session policies),
the resource's policy (an S3 bucket policy, a role's trust policy for sts:AssumeRole), and the
condition keys of the request, evaluated by `iam.policy` for each permission the request needs.

A denied request gets the protocol's AccessDenied error with AWS's message shape. The account
root is never denied. Principals' compiled policies are cached for `ttl` seconds, so policy
changes take effect within that time (AWS is eventually consistent too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sagelocal.services.authz_requests import ActionRequest, ContextValue
from sagelocal.services.base import Principal, RequestContext, ServiceError
from sagelocal.services.iam.identity import find_role_by_arn
from sagelocal.services.iam.policy import AuthzRequest, CompiledPolicy, Decision, compile_policy, evaluate
from sagelocal.services.iam.principal_policies import PrincipalPolicies, policies_for
from sagelocal.store.db import Database

# Each protocol family's AccessDenied: (code, HTTP status).
DENIED: dict[str, tuple[str, int]] = {
    "s3": ("AccessDenied", 403),
    "iam": ("AccessDenied", 403),
    "sts": ("AccessDenied", 403),
}
JSON_DENIED = ("AccessDeniedException", 400)


@dataclass(frozen=True)
class _Compiled:
    identity: tuple[CompiledPolicy, ...]
    session: tuple[CompiledPolicy, ...] | None
    is_root: bool
    loaded: float


def denied_error(
    service: str, principal_arn: str, request: ActionRequest, decision: Decision
) -> ServiceError:
    resource = f'"{request.resource}"' if service == "s3" else request.resource
    message = (
        f"User: {principal_arn} is not authorized to perform: {request.action} on resource: {resource} "
        f"{decision.because()}"
    )
    code, status = DENIED.get(service, JSON_DENIED)
    return ServiceError(code, message, status)


class Authorizer:
    """`check(ctx, requests)` raises the AccessDenied error unless every request is allowed."""

    def __init__(
        self,
        db: Database,
        bucket_policy: Callable[[str], str | None],
        object_tags: Callable[[str, str], dict[str, str]],
        ttl: float = 1.0,
    ) -> None:
        self.db = db
        self.bucket_policy = bucket_policy
        self.object_tags = object_tags
        self.ttl = ttl
        self._cache: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _policies(self, principal: Principal) -> _Compiled:
        key = (principal.arn, principal.access_key_id)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached.loaded < self.ttl:
            return cached
        with self.db.read() as session:
            found: PrincipalPolicies = policies_for(
                session, principal.kind, principal.arn, principal.access_key_id
            )
        compiled = _Compiled(
            tuple(compile_policy(text, source) for text, source in found.identity),
            None if found.session is None else tuple(compile_policy(t, s) for t, s in found.session),
            found.is_root,
            now,
        )
        with self._lock:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = compiled
        return compiled

    @staticmethod
    def base_context(ctx: RequestContext) -> dict[str, ContextValue]:
        principal = ctx.principal
        assert principal is not None
        current_time, epoch_time = _times(int(ctx.received_at.timestamp()))
        context: dict[str, ContextValue] = {
            "aws:PrincipalArn": principal.role_arn or principal.arn,
            "aws:PrincipalAccount": principal.account_id,
            "aws:userid": principal.user_id,
            "aws:PrincipalType": {"user": "User", "assumed-role": "AssumedRole"}.get(
                principal.kind, "Account"
            ),
            "aws:SecureTransport": "true" if ctx.secure_transport else "false",
            "aws:CurrentTime": current_time,
            "aws:EpochTime": epoch_time,
            "aws:RequestedRegion": ctx.region,
        }
        if principal.kind == "user":
            context["aws:username"] = principal.name
        if ctx.source_ip:
            context["aws:SourceIp"] = ctx.source_ip
        return context

    def _resource_policy(self, request: ActionRequest) -> CompiledPolicy | None:
        if request.bucket is not None:
            text = self.bucket_policy(request.bucket)
            return compile_policy(text, f"bucket policy of {request.bucket}") if text else None
        if request.action == "sts:AssumeRole":
            with self.db.read() as session:
                role = find_role_by_arn(session, request.resource)
            if role is None:  # STS itself answers for a missing role (AWS's message has no reason)
                raise _NoSuchRole()
            return compile_policy(role.trust_policy, f"trust policy of {role.arn}")
        return None

    def decide(self, ctx: RequestContext, request: ActionRequest) -> Decision | None:
        """The decision for one permission (None: no decision here — the caller is the account root,
        or the role to assume does not exist, which STS answers itself)."""
        principal = ctx.principal
        assert principal is not None
        policies = self._policies(principal)
        if policies.is_root:
            return None
        context = self.base_context(ctx) | request.context
        if request.object_key is not None and request.bucket is not None:
            for tag, value in self.object_tags(request.bucket, request.object_key).items():
                context[f"s3:ExistingObjectTag/{tag}"] = value
        resource_account = None if request.bucket is not None else _account_of(request.resource)
        try:
            resource_policy = self._resource_policy(request)
        except _NoSuchRole:
            return None
        return evaluate(
            AuthzRequest(
                principal.arn,
                principal.account_id,
                request.action,
                request.resource,
                context,
                principal.role_arn,
            ),
            policies.identity,
            resource_policy,
            policies.session,
            resource_account=resource_account or principal.account_id,
            resource_must_allow=request.action == "sts:AssumeRole",  # the trust policy must allow it
        )

    def check(self, ctx: RequestContext, requests: Sequence[ActionRequest]) -> None:
        if ctx.principal is None or ctx.principal.kind == "root":
            return
        for request in requests:
            decision = self.decide(ctx, request)
            if decision is not None and not decision.allowed:
                raise denied_error(ctx.service, ctx.principal.arn, request, decision)


@lru_cache(maxsize=4)
def _times(epoch: int) -> tuple[str, str]:
    """aws:CurrentTime and aws:EpochTime for a second (formatted once per second)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), str(epoch)


class _NoSuchRole(Exception):
    pass


def _account_of(arn: str) -> str | None:
    """The account owning the resource, when its ARN names one (AWS managed policies say `aws`,
    S3 ARNs nothing: those are not another account's resources)."""
    parts = arn.split(":")
    account = parts[4] if len(parts) > 5 else ""
    return account if len(account) == 12 and account.isdigit() else None
