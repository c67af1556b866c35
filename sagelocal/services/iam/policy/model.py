"""The engine's values: the request to authorize, the decision, and compiled policies.

Everything here is plain data. `AuthzRequest` is what the gateway builds per request (the name
avoids a clash with `sagelocal.services.base.RequestContext`); `CompiledPolicy` is what
`compile_policy` makes of a JSON document; `Decision` is what `evaluate` answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from sagelocal.services.base import ServiceError

if TYPE_CHECKING:
    from sagelocal.services.iam.policy.context import Context
    from sagelocal.services.iam.policy.principals import PrincipalInfo

Effect = Literal["Allow", "Deny"]
DecisionKind = Literal["explicit_deny", "allow", "implicit_deny"]
PolicyType = Literal["identity-based", "resource-based", "session"]

ContextValue = str | bool | int | float | Sequence[str]


class PolicyError(ServiceError):
    """A document the engine cannot compile: IAM's MalformedPolicyDocument."""

    def __init__(self, message: str) -> None:
        super().__init__("MalformedPolicyDocument", message, 400)


@dataclass(frozen=True)
class AuthzRequest:
    """One authorization question: may `principal_arn` perform `action` on `resource`?

    `context` holds the condition keys (names matched case-insensitively; a string for a
    single-valued key, a list for a multi-valued one such as `aws:TagKeys`). `aws:PrincipalArn`,
    `aws:PrincipalAccount`, `aws:PrincipalType` and, for IAM users, `aws:username` are derived from
    the principal when the context does not carry them. `role_arn` is the full ARN (with path) of
    the role an assumed-role session belongs to, when the caller knows it; without it a resource
    policy naming `arn:aws:iam::<acct>:role/<path><name>` matches sessions of role `<name>`.
    """

    principal_arn: str
    account_id: str
    action: str
    resource: str = "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    role_arn: str | None = None

    @cached_property
    def normalized(self) -> Context:
        from sagelocal.services.iam.policy.context import Context

        return Context.build(self)

    @cached_property
    def principal(self) -> PrincipalInfo:
        from sagelocal.services.iam.policy.principals import parse_principal

        return parse_principal(self.principal_arn, self.account_id, self.role_arn)


@dataclass(frozen=True)
class StatementRef:
    """Where a statement lives: the policy's `source` label, its Sid (if any) and position."""

    source: str
    sid: str | None
    index: int
    effect: Effect

    @property
    def label(self) -> str:
        return self.sid if self.sid else f"statement #{self.index + 1}"

    def __str__(self) -> str:
        return f"{self.effect} {self.source} {self.label}"


_MESSAGE_TYPES = {
    "identity-based": "an identity-based",
    "resource-based": "a resource-based",
    "session": "a session",
}


@dataclass(frozen=True)
class Decision:
    """The outcome, where it came from, and AWS's wording for it."""

    allowed: bool
    kind: DecisionKind
    policy_type: PolicyType | None
    statements: tuple[StatementRef, ...] = ()
    action: str = ""

    def because(self) -> str:
        """The tail of AWS's AccessDenied message ("" for an allow)."""
        if self.kind == "explicit_deny":
            return f"with an explicit deny in {_MESSAGE_TYPES[self.policy_type or 'identity-based']} policy"
        if self.kind == "implicit_deny":
            return f"because no {self.policy_type or 'identity-based'} policy allows the {self.action} action"
        return ""


# A statement's compiled parts. `resource` and `condition` read the request's normalized context;
# `principal` answers a grant level (see principals.py), None when the statement names none.
ActionTest = Callable[[str], bool]
ResourceTest = Callable[[str, "Context"], bool]
ConditionTest = Callable[["Context"], bool]
PrincipalTest = Callable[["PrincipalInfo"], int]
Check = tuple[ResourceTest, ConditionTest | None, "StatementRef"]


@dataclass(frozen=True, slots=True)
class Statement:
    ref: StatementRef
    allow: bool
    action: ActionTest  # takes the lower-cased action
    resource: ResourceTest
    condition: ConditionTest | None
    principal: PrincipalTest | None
    services: frozenset[str] | None  # lower-case service prefixes the statement can match; None: any

    def applies(self, action: str, resource: str, ctx: Context) -> bool:
        """Action (lower-cased), resource and conditions all match (the principal is checked apart)."""
        if not self.action(action) or not self.resource(resource, ctx):
            return False
        return self.condition is None or self.condition(ctx)


_MEMO_LIMIT = 4096


@dataclass(frozen=True, eq=False)
class CompiledPolicy:
    """A parsed, precompiled policy document; statements indexed by service prefix."""

    source: str
    version: str
    statements: tuple[Statement, ...]
    by_service: Mapping[str, tuple[Statement, ...]]
    any_service: tuple[Statement, ...]
    _by_action: dict[str, tuple[Statement, ...]] = field(default_factory=dict, repr=False)
    _split: dict[str, tuple[tuple[Check, ...], tuple[Check, ...]]] = field(default_factory=dict, repr=False)

    def for_service(self, service: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction can match an action of `service` (lower-case)."""
        return self.by_service.get(service, self.any_service)

    def for_action(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction matches `action` (lower-cased), memoized."""
        found = self._by_action.get(action)
        if found is None:
            service = action.split(":", 1)[0]
            found = tuple(s for s in self.for_service(service) if s.action(action))
            if len(self._by_action) >= _MEMO_LIMIT:
                self._by_action.clear()
            self._by_action[action] = found
        return found

    def checks_for_action(self, action: str) -> tuple[tuple[Check, ...], tuple[Check, ...]]:
        """(Deny, Allow) statements matching `action` (lower-cased) as (resource, condition, ref)
        triples: the hot loop unpacks tuples rather than reading attributes."""
        found = self._split.get(action)
        if found is None:
            statements = self.for_action(action)
            found = (
                tuple((s.resource, s.condition, s.ref) for s in statements if not s.allow),
                tuple((s.resource, s.condition, s.ref) for s in statements if s.allow),
            )
            if len(self._split) >= _MEMO_LIMIT:
                self._split.clear()
            self._split[action] = found
        return found
