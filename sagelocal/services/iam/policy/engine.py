"""The decision: AWS's policy evaluation logic over compiled policies.

1. An explicit Deny in any applicable policy (identity, session, or a resource-policy statement
   whose Principal names the caller) denies.
2. Same account: an Allow in the identity policies, or a resource-policy Allow naming the caller,
   allows. Session policies (AssumeRole's Policy/PolicyArns) intersect: with any, an identity
   Allow also needs a session Allow, and so does a resource Allow naming the session's *role*; a
   resource Allow naming the session ARN itself (or `*`) is not limited by them. A resource Allow
   naming only the caller's *account* delegates to the account: it needs an identity Allow too.
3. Cross-account (`resource_account` differs from the caller's): both an identity Allow (within
   session policies) and a resource-policy Allow naming the caller (or its account) are needed.
4. Otherwise: implicit deny.

The account root calling in its own account has every identity permission (only explicit denies
stop it). Service principals and anonymous callers have no identity policies: only a resource
policy can allow them. For role trust policies pass `resource_must_allow=True`: AWS requires the
trust policy to allow AssumeRole even when an identity policy does.
"""

from __future__ import annotations

from collections.abc import Sequence

from sagelocal.services.iam.policy.model import (
    AuthzRequest,
    CompiledPolicy,
    Decision,
    PolicyType,
    StatementRef,
)
from sagelocal.services.iam.policy.principals import ACCOUNT, DIRECT, NONE, ROLE


class _Denied(Exception):
    def __init__(self, ref: StatementRef, policy_type: PolicyType) -> None:
        self.ref = ref
        self.policy_type = policy_type


def _scan(
    policies: Sequence[CompiledPolicy],
    request: AuthzRequest,
    action: str,
    policy_type: PolicyType,
    denies: list[tuple[StatementRef, PolicyType]],
    explain: bool,
) -> list[StatementRef]:
    """Matching Allow statements (the first only, unless explaining); a matching Deny is recorded,
    and ends the evaluation at once unless explaining."""
    allows: list[StatementRef] = []
    resource = request.resource
    ctx = request.normalized
    for policy in policies:
        deny_checks, allow_checks = policy.checks_for_action(action)  # Action/NotAction already matched
        for res, cond, ref in deny_checks:
            if res(resource, ctx) and (cond is None or cond(ctx)):
                if not explain:
                    raise _Denied(ref, policy_type)
                denies.append((ref, policy_type))
        if allows and not explain:
            continue
        for res, cond, ref in allow_checks:
            if res(resource, ctx) and (cond is None or cond(ctx)):
                allows.append(ref)
                if not explain:
                    break
    return allows


def _scan_resource(
    policy: CompiledPolicy,
    request: AuthzRequest,
    action: str,
    denies: list[tuple[StatementRef, PolicyType]],
    explain: bool,
) -> tuple[int, list[StatementRef]]:
    """The strongest grant level among matching resource-policy Allows, and those statements."""
    level = NONE
    allows: list[StatementRef] = []
    principal = request.principal
    resource = request.resource
    ctx = request.normalized
    for st in policy.for_action(action):
        if st.principal is None:
            continue  # a resource-policy statement must name a principal; one that does not names no one
        if st.allow and level == DIRECT and not explain:
            continue
        grant = st.principal(principal)
        if grant == NONE or not st.resource(resource, ctx) or not (st.condition is None or st.condition(ctx)):
            continue
        if not st.allow:
            if not explain:
                raise _Denied(st.ref, "resource-based")
            denies.append((st.ref, "resource-based"))
        elif grant > level:
            level, allows = grant, [st.ref, *allows] if explain else [st.ref]
        else:
            allows.append(st.ref)
    return level, allows


def evaluate(
    request: AuthzRequest,
    identity: Sequence[CompiledPolicy],
    resource: CompiledPolicy | None = None,
    session: Sequence[CompiledPolicy] | None = None,
    resource_account: str | None = None,
    *,
    resource_must_allow: bool = False,
    explain: bool = False,
) -> Decision:
    """Whether `request` is allowed by these policies, and why.

    `identity`: the caller's identity policies (user's inline and attached, its groups'; or the
    role's, for a session). `resource`: the resource's policy (a bucket policy, a trust policy).
    `session`: the session policies of an assumed-role session (None or empty: none were passed).
    `resource_account`: the account owning the resource (None: the caller's). `explain`: collect
    every matching statement instead of stopping at the first deciding one.
    """
    action = request.action.lower()
    p = request.principal
    uses_identity = p.kind not in ("service", "anonymous")
    denies: list[tuple[StatementRef, PolicyType]] = []
    try:
        id_allows = (
            _scan(identity, request, action, "identity-based", denies, explain) if uses_identity else []
        )
        session_active = bool(session) and uses_identity
        sess_allows = _scan(session, request, action, "session", denies, explain) if session_active else []
        level, res_allows = (NONE, [])
        if resource is not None:
            level, res_allows = _scan_resource(resource, request, action, denies, explain)
    except _Denied as denied:
        return Decision(False, "explicit_deny", denied.policy_type, (denied.ref,), request.action)
    if denies:
        refs = tuple(ref for ref, _ in denies)
        return Decision(False, "explicit_deny", denies[0][1], refs, request.action)

    identity_ok = bool(id_allows) or p.kind == "root"
    session_ok = not session_active or bool(sess_allows)
    identity_path = identity_ok and session_ok
    identity_refs = tuple(id_allows) + tuple(sess_allows)
    cross = uses_identity and resource_account is not None and resource_account != request.account_id

    if not uses_identity:
        allowed, refs, missing = level > NONE, tuple(res_allows), "resource-based"
    elif cross:
        allowed = identity_path and level > NONE
        refs = identity_refs + tuple(res_allows)
        missing = "resource-based" if identity_path else ("session" if identity_ok else "identity-based")
    else:
        direct = level == DIRECT
        via_role = level == ROLE and session_ok
        if resource_must_allow:
            allowed = direct or via_role or (level == ACCOUNT and identity_path)
        else:
            allowed = direct or via_role or identity_path
        if direct or via_role:
            refs = tuple(res_allows) + (tuple(sess_allows) if level == ROLE else ())
        else:
            refs = identity_refs + tuple(res_allows)
        if resource_must_allow and level == NONE:
            missing = "resource-based"
        elif not session_ok and (identity_ok or level == ROLE):
            missing = "session"
        else:
            missing = "identity-based"
    if allowed:
        return Decision(True, "allow", None, refs, request.action)
    return Decision(False, "implicit_deny", missing, refs, request.action)


def access_denied_message(request: AuthzRequest, decision: Decision) -> str:
    """AWS's AccessDenied message: `User: <arn> is not authorized to perform: <action> on resource:
    <arn> because no identity-based policy allows the <action> action` (no resource part for `*`)."""
    on = "" if request.resource == "*" else f" on resource: {request.resource}"
    return f"User: {request.principal_arn} is not authorized to perform: {request.action}{on} {decision.because()}"
