"""Action/NotAction and Resource/NotResource, compiled into predicates.

Actions compare case-insensitively (`s3:Get*` matches `s3:getobject`): patterns are lower-cased
once and requests arrive lower-cased. Resources compare case-sensitively; `*` spans `/` and `:`
(`arn:aws:s3:::*sagemaker*` matches any key containing "sagemaker"). Both take `*` and `?`.
"""

from __future__ import annotations

import re
from typing import Any

from sagelocal.services.iam.policy.context import Context
from sagelocal.services.iam.policy.model import ActionTest, PolicyError, ResourceTest
from sagelocal.services.iam.policy.variables import (
    glob_fragments,
    glob_matcher,
    glob_source,
    has_variables,
    tokenize,
)

VENDOR_MESSAGE = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."


def element_values(value: Any) -> list[str]:
    """A policy element's values: a string or a non-empty list of strings."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise PolicyError("Syntax errors in policy.")
    return values


def _is_glob(text: str) -> bool:
    return "*" in text or "?" in text


def compile_actions(value: Any, negated: bool) -> tuple[ActionTest, frozenset[str] | None]:
    """The predicate over lower-cased action names, and the service prefixes it can match
    (None when any service: a `*` prefix, a wildcard in the prefix, or NotAction)."""
    exact: set[str] = set()
    patterns: list[str] = []
    services: set[str] | None = set()
    everything = False
    for raw in element_values(value):
        action = raw.strip().lower()
        if action == "*":
            everything = True
            services = None
            continue
        prefix, sep, _name = action.partition(":")
        if not sep or not prefix:
            raise PolicyError(VENDOR_MESSAGE)
        if _is_glob(prefix):
            services = None
        elif services is not None:
            services.add(prefix)
        if _is_glob(action):
            patterns.append(glob_source(action))
        else:
            exact.add(action)
    if negated:
        services = None
    if everything:
        return (lambda a: False) if negated else (lambda a: True), None
    frozen = frozenset(exact)
    if patterns:
        match = re.compile("|".join(f"(?:{p})" for p in patterns), re.DOTALL).fullmatch
        if negated:
            return (lambda a: a not in frozen and match(a) is None), None
        return (lambda a: a in frozen or match(a) is not None), frozenset(services) if services else None
    if negated:
        return (lambda a: a not in frozen), None
    return frozen.__contains__, frozenset(services) if services else None


def _match_all(resource: str, ctx: Context) -> bool:
    return True


def _match_none(resource: str, ctx: Context) -> bool:
    return False


def compile_resources(value: Any, negated: bool, version: str) -> ResourceTest:
    """The predicate over (resource ARN, context) of a Resource/NotResource element.

    A pattern whose policy variable has no value matches nothing (so NotResource then excludes
    nothing on its account)."""
    exact: set[str] = set()
    patterns: list[str] = []
    dynamic: list[tuple] = []
    for raw in element_values(value):
        if raw == "*":
            return _match_none if negated else _match_all
        if has_variables(raw, version):
            dynamic.append(glob_fragments(tokenize(raw)))
        elif _is_glob(raw):
            patterns.append(glob_source(raw))
        else:
            exact.add(raw)
    frozen = frozenset(exact)
    combined = re.compile("|".join(f"(?:{p})" for p in patterns), re.DOTALL).fullmatch if patterns else None
    dyn = tuple(dynamic)

    def matches(resource: str, ctx: Context) -> bool:
        if resource in frozen or (combined is not None and combined(resource) is not None):
            return True
        for fragments in dyn:
            match = glob_matcher(fragments, ctx)
            if match is not None and match(resource) is not None:
                return True
        return False

    if negated:
        return lambda resource, ctx: not matches(resource, ctx)
    if not dyn and combined is None:
        return lambda resource, ctx: resource in frozen
    if not dyn and not frozen:
        return lambda resource, ctx: combined(resource) is not None
    return matches
