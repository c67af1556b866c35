"""A request's condition keys, normalized once: lower-case names, tuple-of-strings values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagelocal.services.iam.policy.model import AuthzRequest, ContextValue

_PRINCIPAL_TYPES = {
    "root": "Account",
    "user": "User",
    "assumed-role": "AssumedRole",
    "role": "AssumedRole",
    "federated-user": "FederatedUser",
}


def _strings(value: ContextValue) -> tuple[tuple[str, ...], bool]:
    """(values, multi-valued?) for one context entry."""
    if isinstance(value, str):
        return (value,), False
    if isinstance(value, bool):
        return ("true" if value else "false",), False
    if isinstance(value, int | float):
        return (str(value),), False
    return tuple(v if isinstance(v, str) else str(v) for v in value), True


class Context:
    """Condition keys of one request. Missing keys and keys with no values read as None."""

    __slots__ = ("memo", "multi", "values")

    def __init__(self, values: dict[str, tuple[str, ...]], multi: frozenset[str]) -> None:
        self.values = values
        self.multi = multi
        self.memo: dict[Any, Any] = {}  # per request: patterns with their variables substituted

    @classmethod
    def of(cls, context: Mapping[str, ContextValue]) -> Context:
        values: dict[str, tuple[str, ...]] = {}
        multi = set()
        for key, raw in context.items():
            vals, is_multi = _strings(raw)
            k = key.lower()
            values[k] = vals
            if is_multi:
                multi.add(k)
        return cls(values, frozenset(multi))

    @classmethod
    def build(cls, request: AuthzRequest) -> Context:
        ctx = cls.of(request.context)
        p = request.principal
        v = ctx.values
        if p.kind not in ("anonymous", "service"):
            v.setdefault("aws:principalarn", (p.arn,))
            v.setdefault("aws:principalaccount", (p.account,))
        if p.kind in _PRINCIPAL_TYPES:
            v.setdefault("aws:principaltype", (_PRINCIPAL_TYPES[p.kind],))
        if p.kind == "user":
            v.setdefault("aws:username", (p.name,))
        return ctx

    def get(self, key: str) -> tuple[str, ...] | None:
        """The values of `key` (lower-case), None when absent or empty."""
        return self.values.get(key) or None

    def single(self, key: str) -> str | None:
        """The value of a single-valued key, as a policy variable reads it (None: no value)."""
        vals = self.values.get(key)
        if not vals or len(vals) != 1 or key in self.multi:
            return None
        return vals[0]
