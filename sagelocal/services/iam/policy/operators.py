"""The base condition operators: for each, a predicate "does this request value match any of the
policy's values" (the values of one key are OR'ed). Negated operators reuse their positive twin;
conditions.py applies the negation, IfExists and the set qualifiers.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from sagelocal.services.iam.policy.context import Context
from sagelocal.services.iam.policy.variables import (
    arn_source,
    arn_tokens_pieces,
    glob_fragments,
    glob_matcher,
    glob_source,
    has_variables,
    regex,
    resolve_exact,
    tokenize,
)

Positive = Callable[[str, Context], bool]


def _never(value: str, ctx: Context) -> bool:
    return False


# --- strings ---------------------------------------------------------------------------------------


def _split(values: list[str], version: str) -> tuple[list[str], list[tuple]]:
    static: list[str] = []
    dynamic: list[tuple] = []
    for v in values:
        if has_variables(v, version):
            dynamic.append(tokenize(v))
        else:
            static.append(v)
    return static, dynamic


def string_equals(values: list[str], version: str, ignore_case: bool = False) -> Positive:
    static, dynamic = _split(values, version)
    fold = str.lower if ignore_case else (lambda s: s)
    known = frozenset(fold(v) for v in static)
    if not dynamic:
        if ignore_case:
            return lambda v, ctx: v.lower() in known
        return lambda v, ctx: v in known
    dyn = tuple(dynamic)

    def positive(v: str, ctx: Context) -> bool:
        folded = fold(v)
        if folded in known:
            return True
        for tokens in dyn:
            resolved = resolve_exact(tokens, ctx)
            if resolved is not None and fold(resolved) == folded:
                return True
        return False

    return positive


def string_like(values: list[str], version: str) -> Positive:
    static, dynamic = _split(values, version)
    match = regex("|".join(f"(?:{glob_source(v)})" for v in static)) if static else None
    dyn = tuple(glob_fragments(tokens) for tokens in dynamic)
    if not dyn:
        return (lambda v, ctx: match(v) is not None) if match else _never

    def positive(v: str, ctx: Context) -> bool:
        if match is not None and match(v) is not None:
            return True
        for fragments in dyn:
            dynamic_match = glob_matcher(fragments, ctx)
            if dynamic_match is not None and dynamic_match(v) is not None:
                return True
        return False

    return positive


def arn_like(values: list[str], version: str) -> Positive:
    """ArnEquals and ArnLike alike: each `:`-separated part compared, with wildcards, case-sensitively."""
    static, dynamic = _split(values, version)
    match = regex("|".join(f"(?:{arn_source([(v, True)])})" for v in static)) if static else None
    dyn = tuple(dynamic)
    if not dyn:
        return (lambda v, ctx: match(v) is not None) if match else _never

    def positive(v: str, ctx: Context) -> bool:
        if match is not None and match(v) is not None:
            return True
        for tokens in dyn:
            pieces = arn_tokens_pieces(tokens, ctx)
            if pieces is not None and regex(arn_source(pieces))(v) is not None:
                return True
        return False

    return positive


# --- numbers and dates -------------------------------------------------------------------------------

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "equals": operator.eq,
    "lessthan": operator.lt,
    "lessthanequals": operator.le,
    "greaterthan": operator.gt,
    "greaterthanequals": operator.ge,
}

_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")


@lru_cache(maxsize=4096)
def parse_number(text: str) -> float | None:
    return float(text) if _NUMBER.fullmatch(text) else None


@lru_cache(maxsize=4096)
def parse_date(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 date/time or an epoch number (naive times are UTC)."""
    number = parse_number(text)
    if number is not None:
        return number
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(t)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def compare(values: list[str], comparison: str, parse: Callable[[str], float | None]) -> Positive:
    """Numeric*/Date*: request value `cmp` policy value for any policy value (unparsable: no match)."""
    cmp = COMPARISONS[comparison]
    targets = tuple(t for t in (parse(v) for v in values) if t is not None)
    if not targets:
        return _never

    def positive(v: str, ctx: Context) -> bool:
        x = parse(v)
        return x is not None and any(cmp(x, t) for t in targets)

    return positive


# --- the rest ------------------------------------------------------------------------------------------


def boolean(values: list[str], version: str) -> Positive:
    known = frozenset(v.lower() for v in values)
    return lambda v, ctx: v.lower() in known


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def binary_equals(values: list[str], version: str) -> Positive:
    """BinaryEquals: the policy gives base64; the request value is base64 too (compared decoded)."""
    known = frozenset(b for b in (_b64(v) for v in values) if b is not None)
    raw = frozenset(values)
    return lambda v, ctx: v in raw or _b64(v) in known


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def ip_address(values: list[str], version: str) -> Positive:
    """IpAddress: the request's address lies in any of the policy's CIDR blocks (v4 or v6)."""
    networks: list[Network] = []
    for v in values:
        try:
            networks.append(ipaddress.ip_network(v.strip(), strict=False))
        except ValueError:
            continue
    nets = tuple(networks)

    def positive(v: str, ctx: Context) -> bool:
        addr = _address(v)
        if addr is None:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr.version == n.version and addr in n for n in nets)

    return positive
