"""Parse a policy document once into a `CompiledPolicy` (cached by content).

One grammar serves identity, session, resource (bucket) and trust policies: Principal/NotPrincipal
are compiled when present (resource and trust policies), and a statement without Resource or
NotResource applies to every resource (a trust policy's resource is the role itself). The IAM API's
storage-time checks (which elements each policy kind must or must not have, size quotas) stay in
`sagelocal.services.iam.documents`; this module rejects what it cannot evaluate.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sagelocal.services.iam.policy.conditions import compile_condition
from sagelocal.services.iam.policy.matching import _match_all, compile_actions, compile_resources
from sagelocal.services.iam.policy.model import CompiledPolicy, PolicyError, Statement, StatementRef
from sagelocal.services.iam.policy.principals import compile_principal

VERSIONS = ("2008-10-17", "2012-10-17")
DEFAULT_VERSION = "2008-10-17"  # what AWS assumes when a document names none
SYNTAX_ERRORS = "Syntax errors in policy."


def _exclusive(stmt: dict[str, Any], a: str, b: str) -> None:
    if a in stmt and b in stmt:
        raise PolicyError(SYNTAX_ERRORS)


def _statement(stmt: Any, index: int, version: str, source: str) -> Statement:
    if not isinstance(stmt, dict):
        raise PolicyError(SYNTAX_ERRORS)
    effect = stmt.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(SYNTAX_ERRORS)
    sid = stmt.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(SYNTAX_ERRORS)
    for a, b in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
        _exclusive(stmt, a, b)
    if "Action" in stmt:
        action, services = compile_actions(stmt["Action"], negated=False)
    elif "NotAction" in stmt:
        action, services = compile_actions(stmt["NotAction"], negated=True)
    else:
        raise PolicyError("Policy statement must contain actions.")
    if "Resource" in stmt:
        resource = compile_resources(stmt["Resource"], False, version)
    elif "NotResource" in stmt:
        resource = compile_resources(stmt["NotResource"], True, version)
    else:
        resource = _match_all
    principal = None
    if "Principal" in stmt:
        principal = compile_principal(stmt["Principal"], negated=False)
    elif "NotPrincipal" in stmt:
        principal = compile_principal(stmt["NotPrincipal"], negated=True)
    condition = compile_condition(stmt["Condition"], version) if "Condition" in stmt else None
    ref = StatementRef(source, sid or None, index, effect)
    return Statement(ref, effect == "Allow", action, resource, condition, principal, services)


def _index(
    statements: tuple[Statement, ...],
) -> tuple[dict[str, tuple[Statement, ...]], tuple[Statement, ...]]:
    """Statements by service prefix (each keeping document order), plus the any-service ones."""
    prefixes = {p for s in statements if s.services for p in s.services}
    by_service = {
        p: tuple(s for s in statements if s.services is None or p in s.services) for p in sorted(prefixes)
    }
    return by_service, tuple(s for s in statements if s.services is None)


def _build(doc: Any, source: str) -> CompiledPolicy:
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise PolicyError(SYNTAX_ERRORS)
    version = doc.get("Version", DEFAULT_VERSION)
    if version not in VERSIONS:
        raise PolicyError("The policy failed legacy parsing")
    raw = doc["Statement"]
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise PolicyError(SYNTAX_ERRORS)
    statements = tuple(_statement(s, i, version, source) for i, s in enumerate(raw))
    by_service, any_service = _index(statements)
    return CompiledPolicy(source, version, statements, by_service, any_service)


@lru_cache(maxsize=2048)
def _compile_text(text: str, source: str) -> CompiledPolicy:
    try:
        doc = json.loads(text)
    except (ValueError, TypeError):
        raise PolicyError("This policy contains invalid Json") from None
    return _build(doc, source)


def compile_policy(document: dict[str, Any] | str, source: str) -> CompiledPolicy:
    """Compile a policy document (JSON text or its parsed dict); `source` labels its statements
    in decisions (e.g. `arn:aws:iam::aws:policy/AmazonSageMakerFullAccess`, `role/R inline p`).

    Cached by (text, source): pass the stored JSON text to hit the cache without re-serializing.
    Raises PolicyError (MalformedPolicyDocument) for what cannot be evaluated.
    """
    if isinstance(document, str):
        return _compile_text(document, source)
    if not isinstance(document, dict):
        raise PolicyError(SYNTAX_ERRORS)
    return _compile_text(json.dumps(document, sort_keys=True, separators=(",", ":")), source)
