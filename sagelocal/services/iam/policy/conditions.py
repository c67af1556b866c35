"""The Condition element compiled into one predicate over the request's context.

Operators and the keys under one operator are AND'ed; the values of one key are OR'ed (NOR'ed
for a negated operator). Keys are case-insensitive, values case-sensitive unless the operator
says otherwise. A key the request lacks makes the condition false, except:

- negated operators (StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals,
  DateNotEquals, NotIpAddress, ArnNotEquals, ArnNotLike) are true;
- `...IfExists` is true;
- `Null` tests presence: `"true"` holds when the key is absent, `"false"` when present;
- `ForAllValues:` is true for a missing or empty key (each of no values matches); `ForAnyValue:`
  is false for one (no value matches) unless it also says IfExists.

Without a set qualifier a multi-valued key matches when any of its values does (negated: none).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sagelocal.services.iam.policy import operators as ops
from sagelocal.services.iam.policy.context import Context
from sagelocal.services.iam.policy.model import ConditionTest, PolicyError

Factory = Callable[[list[str], str], ops.Positive]

# lower-case operator name -> (factory of the positive predicate, negated?)
_BASE: dict[str, tuple[Factory, bool]] = {
    "stringequals": (ops.string_equals, False),
    "stringnotequals": (ops.string_equals, True),
    "stringequalsignorecase": (partial(ops.string_equals, ignore_case=True), False),
    "stringnotequalsignorecase": (partial(ops.string_equals, ignore_case=True), True),
    "stringlike": (ops.string_like, False),
    "stringnotlike": (ops.string_like, True),
    "numericnotequals": (lambda vals, version: ops.compare(vals, "equals", ops.parse_number), True),
    "datenotequals": (lambda vals, version: ops.compare(vals, "equals", ops.parse_date), True),
    "bool": (ops.boolean, False),
    "binaryequals": (ops.binary_equals, False),
    "ipaddress": (ops.ip_address, False),
    "notipaddress": (ops.ip_address, True),
    "arnequals": (ops.arn_like, False),
    "arnlike": (ops.arn_like, False),
    "arnnotequals": (ops.arn_like, True),
    "arnnotlike": (ops.arn_like, True),
}
for _name in ops.COMPARISONS:
    _BASE["numeric" + _name] = (
        partial(lambda vals, version, c: ops.compare(vals, c, ops.parse_number), c=_name),
        False,
    )
    _BASE["date" + _name] = (
        partial(lambda vals, version, c: ops.compare(vals, c, ops.parse_date), c=_name),
        False,
    )

OPERATORS = frozenset(_BASE) | {"null"}


def _policy_values(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for v in values:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, str):
            out.append(v)
        elif isinstance(v, int | float):
            out.append(str(v))
        else:
            raise PolicyError("Syntax errors in policy.")
    return out


def _split_operator(name: str) -> tuple[str | None, str, bool]:
    """(qualifier "all"/"any"/None, lower-case base operator, IfExists?)."""
    lowered = name.lower()
    qualifier = None
    if lowered.startswith("forallvalues:"):
        qualifier, lowered = "all", lowered[len("forallvalues:") :]
    elif lowered.startswith("foranyvalue:"):
        qualifier, lowered = "any", lowered[len("foranyvalue:") :]
    if_exists = lowered.endswith("ifexists") and lowered != "ifexists"
    if if_exists:
        lowered = lowered[: -len("ifexists")]
    if lowered not in OPERATORS or (if_exists and lowered == "null"):
        raise PolicyError(f"Invalid Condition type : {name}")
    return qualifier, lowered, if_exists


def _null_test(key: str, values: list[str]) -> ConditionTest:
    wants_absent = {v.lower() == "true" for v in values}

    def test(ctx: Context) -> bool:
        return (ctx.get(key) is None) in wants_absent

    return test


def _key_test(
    key: str, positive: ops.Positive, negated: bool, qualifier: str | None, if_exists: bool
) -> ConditionTest:
    if qualifier is None:
        if negated:

            def plain_negated(ctx: Context) -> bool:
                vals = ctx.get(key)
                return vals is None or not any(positive(v, ctx) for v in vals)

            return plain_negated

        def plain(ctx: Context) -> bool:
            vals = ctx.get(key)
            if vals is None:
                return if_exists
            return any(positive(v, ctx) for v in vals)

        return plain

    def pred(v: str, ctx: Context) -> bool:
        return positive(v, ctx) != negated

    if qualifier == "all":

        def for_all(ctx: Context) -> bool:
            vals = ctx.get(key)
            return vals is None or all(pred(v, ctx) for v in vals)

        return for_all

    def for_any(ctx: Context) -> bool:
        vals = ctx.get(key)
        if vals is None:
            return if_exists
        return any(pred(v, ctx) for v in vals)

    return for_any


def compile_condition(block: Any, version: str) -> ConditionTest | None:
    """The statement's Condition element as one predicate (None when it has no conditions)."""
    if not isinstance(block, dict):
        raise PolicyError("Syntax errors in policy.")
    tests: list[ConditionTest] = []
    for op_name, keys in block.items():
        qualifier, base, if_exists = _split_operator(op_name)
        if not isinstance(keys, dict):
            raise PolicyError("Syntax errors in policy.")
        for raw_key, raw_values in keys.items():
            key = raw_key.lower()
            values = _policy_values(raw_values)
            if base == "null":
                tests.append(_null_test(key, values))
                continue
            factory, negated = _BASE[base]
            positive = factory(values, version) if values else ops._never
            tests.append(_key_test(key, positive, negated, qualifier, if_exists))
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    all_tests = tuple(tests)
    return lambda ctx: all(t(ctx) for t in all_tests)
