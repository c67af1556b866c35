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
    """Condition keys of one request, normalized on first use (many requests are decided by
    statements without conditions or variables, and never need them). Missing keys and keys
    with no values read as None."""

    __slots__ = ("_multi", "_request", "_source", "_values", "memo")

    def __init__(
        self, values: dict[str, tuple[str, ...]] | None, multi: frozenset[str] = frozenset()
    ) -> None:
        self._values = values
        self._multi = multi
        self._source: Mapping[str, ContextValue] | None = None
        self._request: AuthzRequest | None = None
        self.memo: dict[Any, Any] = {}  # per request: patterns with their variables substituted

    @staticmethod
    def _normalize(context: Mapping[str, ContextValue]) -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
        values: dict[str, tuple[str, ...]] = {}
        multi = set()
        for key, raw in context.items():
            vals, is_multi = _strings(raw)
            k = key.lower()
            values[k] = vals
            if is_multi:
                multi.add(k)
        return values, frozenset(multi)

    @classmethod
    def of(cls, context: Mapping[str, ContextValue]) -> Context:
        return cls(*cls._normalize(context))

    @classmethod
    def build(cls, request: AuthzRequest) -> Context:
        ctx = cls(None)
        ctx._request = request
        return ctx

    def _load(self) -> dict[str, tuple[str, ...]]:
        request = self._request
        assert request is not None
        values, self._multi = self._normalize(request.context)
        p = request.principal
        if p.kind not in ("anonymous", "service"):
            values.setdefault("aws:principalarn", (p.arn,))
            values.setdefault("aws:principalaccount", (p.account,))
        if p.kind in _PRINCIPAL_TYPES:
            values.setdefault("aws:principaltype", (_PRINCIPAL_TYPES[p.kind],))
        if p.kind == "user":
            values.setdefault("aws:username", (p.name,))
        self._values = values
        return values

    @property
    def values(self) -> dict[str, tuple[str, ...]]:
        return self._values if self._values is not None else self._load()

    @property
    def multi(self) -> frozenset[str]:
        if self._values is None:
            self._load()
        return self._multi

    def get(self, key: str) -> tuple[str, ...] | None:
        """The values of `key` (lower-case), None when absent or empty."""
        return self.values.get(key) or None

    def single(self, key: str) -> str | None:
        """The value of a single-valued key, as a policy variable reads it (None: no value)."""
        vals = self.values.get(key)
        if not vals or len(vals) != 1 or key in self.multi:
            return None
        return vals[0]
