"""Who is asking, and whether a resource policy's Principal/NotPrincipal names them.

A principal ARN is parsed once per request into `PrincipalInfo`. A compiled Principal element
answers a *grant level*, because AWS treats the ways of naming a principal differently:

- `DIRECT` — `*`, the caller's exact ARN (IAM user, assumed-role session), a service principal,
  a federated provider, or the account root calling as root. Within the account such an Allow
  needs nothing else, and session policies do not limit it.
- `ROLE` — the role ARN of an assumed-role session. Within the account the Allow suffices, but
  the session's policies limit it.
- `ACCOUNT` — the caller's account (`"123456789012"` or `arn:aws:iam::123456789012:root`). This
  delegates to the account: the caller's identity policies must allow the request too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from sagelocal.services.iam.policy.model import PolicyError, PrincipalTest

NONE, ACCOUNT, ROLE, DIRECT = 0, 1, 2, 3

PrincipalKind = Literal[
    "root", "user", "assumed-role", "role", "federated-user", "service", "anonymous", "other"
]


@dataclass(frozen=True)
class PrincipalInfo:
    kind: PrincipalKind
    arn: str
    account: str
    name: str = ""  # user name, role name (sessions, roles), service name, federated user name
    role_arn: str | None = None  # sessions: the role's full ARN when known


def _arn_parts(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts


@lru_cache(maxsize=4096)
def parse_principal(arn: str, account_id: str = "", role_arn: str | None = None) -> PrincipalInfo:
    """Classify a caller: root, IAM user, assumed-role session, service principal, anonymous."""
    if arn in ("", "*", "anonymous"):
        return PrincipalInfo("anonymous", arn, account_id)
    parts = _arn_parts(arn)
    if parts is None:
        kind: PrincipalKind = "service" if arn.endswith((".amazonaws.com", ".amazonaws.com.cn")) else "other"
        return PrincipalInfo(kind, arn, account_id, arn.lower() if kind == "service" else arn)
    service, account, rest = parts[2], parts[4] or account_id, parts[5]
    if service == "iam" and rest == "root":
        return PrincipalInfo("root", arn, account)
    if service == "iam" and rest.startswith("user/"):
        return PrincipalInfo("user", arn, account, rest.rsplit("/", 1)[-1])
    if service == "iam" and rest.startswith("role/"):
        return PrincipalInfo("role", arn, account, rest.rsplit("/", 1)[-1], arn)
    if service == "sts" and rest.startswith("assumed-role/"):
        segments = rest.split("/")
        name = segments[1] if len(segments) > 2 else ""
        return PrincipalInfo("assumed-role", arn, account, name, role_arn)
    if service == "sts" and rest.startswith("federated-user/"):
        return PrincipalInfo("federated-user", arn, account, rest.split("/", 1)[1])
    return PrincipalInfo("other", arn, account)


def _values(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise PolicyError("Syntax errors in policy.")
    return values


class _Names:
    """The principals one Principal/NotPrincipal element lists, sorted by how they are matched."""

    def __init__(self, element: Any) -> None:
        self.star = False
        self.accounts: set[str] = set()
        self.arns: set[str] = set()
        self.role_arns: set[str] = set()
        self.role_names: set[tuple[str, str]] = set()
        self.services: set[str] = set()
        self.federated: set[str] = set()
        if element == "*":
            self.star = True
            return
        if not isinstance(element, dict) or not element:
            raise PolicyError("Syntax errors in policy.")
        for kind, value in element.items():
            values = _values(value)
            if kind == "AWS":
                for v in values:
                    self._add_aws(v)
            elif kind == "Service":
                self.services.update(v.lower() for v in values)
            elif kind == "Federated":
                self.federated.update(values)
            elif kind != "CanonicalUser":  # S3's canonical user ids: never a sagelocal caller
                raise PolicyError(f"Invalid principal in policy: {kind}")

    def _add_aws(self, value: str) -> None:
        if value == "*":
            self.star = True
            return
        if len(value) == 12 and value.isdigit():
            self.accounts.add(value)
            return
        parts = _arn_parts(value)
        if parts is None:
            raise PolicyError(f'Invalid principal in policy: "AWS":"{value}"')
        if parts[2] == "iam" and parts[5] == "root":
            self.accounts.add(parts[4])
        elif parts[2] == "iam" and parts[5].startswith("role/"):
            self.role_arns.add(value)
            self.role_names.add((parts[4], parts[5].rsplit("/", 1)[-1]))
        else:
            self.arns.add(value)

    def _role(self, p: PrincipalInfo) -> bool:
        if p.role_arn is not None:
            return p.role_arn in self.role_arns
        return (p.account, p.name) in self.role_names

    def level(self, p: PrincipalInfo) -> int:
        if self.star or p.arn in self.arns or p.arn in self.federated:
            return DIRECT
        kind = p.kind
        if kind == "service":
            return DIRECT if p.name in self.services else NONE
        if kind == "anonymous":
            return NONE
        if kind == "assumed-role" and self._role(p):
            return ROLE
        if kind == "role" and p.arn in self.role_arns:
            return DIRECT
        if p.account in self.accounts:
            return DIRECT if kind == "root" else ACCOUNT
        return NONE

    def covers(self, p: PrincipalInfo) -> bool:
        """NotPrincipal: the caller is exempt only when every facet of it is listed (AWS's rule:
        a session is also its role and its account; a user is also its account)."""
        if self.star:
            return True
        kind = p.kind
        if kind == "anonymous":
            return False
        if kind == "service":
            return p.name in self.services
        if kind == "other":
            return p.arn in self.federated or p.arn in self.arns
        if p.account not in self.accounts:
            return False
        if kind == "root":
            return True
        if kind == "assumed-role":
            return p.arn in self.arns and self._role(p)
        if kind == "role":
            return p.arn in self.role_arns
        return p.arn in self.arns


def compile_principal(element: Any, negated: bool) -> PrincipalTest:
    """A Principal (or NotPrincipal) element as a function from the caller to a grant level."""
    names = _Names(element)
    if names.star and not negated:
        return lambda p: DIRECT
    if negated:
        return lambda p: NONE if names.covers(p) else DIRECT
    return names.level
