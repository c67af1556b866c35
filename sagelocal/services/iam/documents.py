"""Checks on policy documents before IAM stores them, with AWS's MalformedPolicyDocument messages.

Two grammars: identity policies (inline, managed) must not name a Principal and need Action and
Resource; trust policies (a role's AssumeRolePolicyDocument) need a Principal and must not name a
Resource. Sizes are counted as AWS does, without white space.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from sagelocal.services.iam.common import malformed, quota

PolicyKind = Literal["identity", "trust"]

VERSIONS = ("2008-10-17", "2012-10-17")
EFFECTS = ("Allow", "Deny")

# AWS default quotas, in characters excluding white space.
MANAGED_POLICY_SIZE = 6144
TRUST_POLICY_SIZE = 2048
INLINE_SIZE = {
    "user": ("UserPolicySize", 2048),
    "role": ("RolePolicySize", 10240),
    "group": ("GroupPolicySize", 5120),
}

INVALID_JSON = "This policy contains invalid Json"
SYNTAX_ERRORS = "Syntax errors in policy."


def parse(text: str) -> Any:
    """The document's JSON value, or MalformedPolicyDocument "This policy contains invalid Json"."""
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        raise malformed(INVALID_JSON) from None


def significant_size(text: str) -> int:
    """The length AWS counts against policy size quotas: characters that are not white space."""
    return sum(1 for c in text if not c.isspace())


def _statements(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise malformed(SYNTAX_ERRORS)
    version = doc.get("Version")
    if version is not None and version not in VERSIONS:
        raise malformed("The policy failed legacy parsing")
    stmts = doc["Statement"]
    if isinstance(stmts, dict):
        stmts = [stmts]
    if not isinstance(stmts, list) or not stmts or not all(isinstance(s, dict) for s in stmts):
        raise malformed(SYNTAX_ERRORS)
    return stmts


def _strings(value: Any) -> bool:
    """A policy element value: a string or a non-empty list of strings."""
    if isinstance(value, str):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _check_statement(stmt: dict[str, Any], kind: PolicyKind) -> None:
    if stmt.get("Effect") not in EFFECTS:
        raise malformed(SYNTAX_ERRORS)
    if "Action" not in stmt and "NotAction" not in stmt:
        raise malformed("Policy statement must contain actions.")
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        if element in stmt and not _strings(stmt[element]):
            raise malformed(SYNTAX_ERRORS)
    if "Condition" in stmt and not isinstance(stmt["Condition"], dict):
        raise malformed(SYNTAX_ERRORS)
    has_principal = "Principal" in stmt or "NotPrincipal" in stmt
    if kind == "identity":
        if has_principal:
            raise malformed("Policy document should not specify a principal.")
        if "Resource" not in stmt and "NotResource" not in stmt:
            raise malformed("Policy statement must contain resources.")
    else:
        if "Resource" in stmt:
            raise malformed("Has prohibited field Resource")
        if "NotResource" in stmt:
            raise malformed("Has prohibited field NotResource")
        if not has_principal:
            raise malformed("Missing required field Principal")
        principal = stmt.get("Principal", stmt.get("NotPrincipal"))
        if not (principal == "*" or isinstance(principal, dict)):
            raise malformed(SYNTAX_ERRORS)


def validate(text: str, kind: PolicyKind) -> dict[str, Any]:
    """Check a policy document's JSON and grammar; returns the parsed document."""
    doc = parse(text)
    for stmt in _statements(doc):
        _check_statement(stmt, kind)
    from sagelocal.services.iam.policy import PolicyError, compile_policy

    try:  # what authorization will evaluate must compile (e.g. no unknown condition operator)
        compile_policy(text, "validation")
    except PolicyError:
        raise malformed(SYNTAX_ERRORS) from None
    return doc


def validate_managed(text: str) -> dict[str, Any]:
    """A customer managed policy version: grammar plus the 6,144-character quota."""
    doc = validate(text, "identity")
    if significant_size(text) > MANAGED_POLICY_SIZE:
        raise quota("PolicySize", MANAGED_POLICY_SIZE)
    return doc


def validate_trust(text: str) -> dict[str, Any]:
    """A role's trust policy: grammar plus the 2,048-character quota."""
    doc = validate(text, "trust")
    if significant_size(text) > TRUST_POLICY_SIZE:
        raise quota("ACLSizePerRole", TRUST_POLICY_SIZE)
    return doc


def check_inline_total(entity_type: str, documents: list[str]) -> None:
    """The inline policies of one user/role/group together stay under the entity's quota."""
    name, limit = INLINE_SIZE[entity_type]
    if sum(significant_size(d) for d in documents) > limit:
        raise quota(name, limit)
