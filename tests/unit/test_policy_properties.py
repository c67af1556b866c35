"""Monotonicity of the decision: a Deny never grants, an Allow never takes away."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sagelocal.services.iam.policy import AuthzRequest, compile_policy, evaluate
from tests.unit.policy_support import ACCOUNT, OTHER_ACCOUNT, ROLE, ROOT, SESSION, USER

ACTION_PATTERNS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:*",
    "s3:Get*",
    "s3:get*",
    "*",
    "sagemaker:*",
    "s3:?etObject",
    "iam:PassRole",
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b*",
    "arn:aws:s3:::*sagemaker*",
    "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:s3:::other/*",
    "arn:aws:iam::*:role/*",
]
CONDITIONS = [
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringEquals": {"aws:RequestTag/team": ["ml", "ops"]}},
    {"StringNotEquals": {"aws:RequestTag/team": "ml"}},
    {"StringEqualsIgnoreCase": {"s3:ExistingObjectTag/SageMaker": "true"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": "t*"}},
    {"Null": {"aws:RequestTag/team": "true"}},
    {"StringLikeIfExists": {"s3:prefix": "home/*"}},
]
PRINCIPALS = ["*", {"AWS": USER}, {"AWS": ACCOUNT}, {"AWS": ROLE}, {"AWS": SESSION}, {"AWS": OTHER_ACCOUNT}]

ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "sagemaker:CreateModel", "iam:PassRole"]
RESOURCES = [
    "arn:aws:s3:::b/alice/k",
    "arn:aws:s3:::b",
    "arn:aws:s3:::my-sagemaker-bucket/k",
    "arn:aws:s3:::other/k",
    f"arn:aws:iam::{ACCOUNT}:role/R",
    "*",
]


def _one_or_more(values: list) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(values), st.lists(st.sampled_from(values), min_size=1, max_size=3))


@st.composite
def statements(draw: Any, effect: str | None = None, resource_policy: bool = False) -> dict:
    s: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    s[draw(st.sampled_from(["Action", "Action", "NotAction"]))] = draw(_one_or_more(ACTION_PATTERNS))
    s[draw(st.sampled_from(["Resource", "Resource", "NotResource"]))] = draw(_one_or_more(RESOURCE_PATTERNS))
    if draw(st.booleans()):
        s["Condition"] = draw(st.sampled_from(CONDITIONS))
    if resource_policy:
        s[draw(st.sampled_from(["Principal", "Principal", "NotPrincipal"]))] = draw(
            st.sampled_from(PRINCIPALS)
        )
    return s


def documents(resource_policy: bool = False) -> st.SearchStrategy:
    return st.lists(statements(resource_policy=resource_policy), min_size=1, max_size=4)


@st.composite
def scenarios(draw: Any) -> dict:
    context: dict[str, Any] = {}
    if draw(st.booleans()):
        context["aws:SecureTransport"] = draw(st.sampled_from(["true", "false"]))
    if draw(st.booleans()):
        context["aws:RequestTag/team"] = draw(st.sampled_from(["ml", "ops", "web"]))
    if draw(st.booleans()):
        context["aws:SourceIp"] = draw(st.sampled_from(["10.1.2.3", "192.168.0.1"]))
    if draw(st.booleans()):
        context["aws:TagKeys"] = draw(st.lists(st.sampled_from(["team", "env", "x"]), max_size=3))
    if draw(st.booleans()):
        context["s3:ExistingObjectTag/SageMaker"] = draw(st.sampled_from(["true", "TRUE", "no"]))
    if draw(st.booleans()):
        context["s3:prefix"] = draw(st.sampled_from(["home/a", "tmp/"]))
    return {
        "request": AuthzRequest(
            draw(st.sampled_from([USER, SESSION, ROOT])),
            ACCOUNT,
            draw(st.sampled_from(ACTIONS)),
            draw(st.sampled_from(RESOURCES)),
            context,
        ),
        "identity": draw(st.lists(documents(), max_size=3)),
        "resource": draw(st.one_of(st.none(), documents(resource_policy=True))),
        "session": draw(st.lists(documents(), max_size=2)),
        "resource_account": draw(st.sampled_from([None, ACCOUNT, OTHER_ACCOUNT])),
        "must_allow": draw(st.booleans()),
    }


def _decide(sc: dict) -> bool:
    def compiled(stmts: list[dict], name: str):
        return compile_policy({"Version": "2012-10-17", "Statement": stmts}, name)

    return evaluate(
        sc["request"],
        [compiled(d, f"identity-{i}") for i, d in enumerate(sc["identity"])],
        compiled(sc["resource"], "resource") if sc["resource"] else None,
        [compiled(d, f"session-{i}") for i, d in enumerate(sc["session"])],
        sc["resource_account"],
        resource_must_allow=sc["must_allow"],
    ).allowed


def _with_statement(sc: dict, where: str, index: int, new: dict) -> dict:
    """The scenario with `new` appended to an existing policy (or as a new resource policy)."""
    out = dict(sc)
    if where == "resource":
        out["resource"] = [*(sc["resource"] or []), new]
        return out
    docs = [list(d) for d in sc[where]]
    if not docs:
        if where == "session":  # a first session policy would be a new limit, not an added statement
            return out
        docs = [[new]]
    else:
        docs[index % len(docs)].append(new)
    out[where] = docs
    return out


# A case random generation reaches rarely: a session policy with statements for other actions only
# must still limit the session (a new session Allow that does not match must not change that).
_SESSION_CASE = {
    "request": AuthzRequest(SESSION, ACCOUNT, "s3:GetObject", "arn:aws:s3:::b/alice/k", {}),
    "identity": [[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]],
    "resource": None,
    "session": [[{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]],
    "resource_account": None,
    "must_allow": False,
}
_SESSION_ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}


class _Fixed:
    """Stands in for `st.data()` in explicit examples: draws a fixed statement."""

    def __init__(self, statement: dict) -> None:
        self.statement = statement

    def draw(self, strategy: Any) -> dict:
        return self.statement


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    scenarios(),
    st.sampled_from(["identity", "resource", "session"]),
    st.integers(0, 5),
    st.data(),
)
def test_adding_a_deny_never_allows(sc, where, index, data):
    deny = data.draw(statements("Deny", resource_policy=where == "resource"))
    if not _decide(sc):
        assert not _decide(_with_statement(sc, where, index, deny))


@SETTINGS
@given(
    scenarios(),
    st.sampled_from(["identity", "resource", "session"]),
    st.integers(0, 5),
    st.data(),
)
@example(_SESSION_CASE, "session", 0, _Fixed(_SESSION_ALLOW))
@example({**_SESSION_CASE, "session": []}, "resource", 0, _Fixed({**_SESSION_ALLOW, "Principal": "*"}))
def test_adding_an_allow_never_denies(sc, where, index, data):
    allow = data.draw(statements("Allow", resource_policy=where == "resource"))
    if _decide(sc):
        assert _decide(_with_statement(sc, where, index, allow))


@SETTINGS
@given(scenarios())
def test_explain_agrees_with_the_fast_path(sc):
    def compiled(stmts: list[dict], name: str):
        return compile_policy({"Version": "2012-10-17", "Statement": stmts}, name)

    args = (
        sc["request"],
        [compiled(d, f"identity-{i}") for i, d in enumerate(sc["identity"])],
        compiled(sc["resource"], "resource") if sc["resource"] else None,
        [compiled(d, f"session-{i}") for i, d in enumerate(sc["session"])],
        sc["resource_account"],
    )
    fast = evaluate(*args, resource_must_allow=sc["must_allow"])
    full = evaluate(*args, resource_must_allow=sc["must_allow"], explain=True)
    assert (fast.allowed, fast.kind, fast.policy_type) == (full.allowed, full.kind, full.policy_type)
    assert set(fast.statements) <= set(full.statements)
