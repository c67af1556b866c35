"""The decision: precedence, resource-policy principals, session policies, cross-account, messages."""

from __future__ import annotations

import json

import pytest

from sagelocal.services.iam.policy import (
    AuthzRequest,
    PolicyError,
    access_denied_message,
    compile_policy,
    evaluate,
    parse_principal,
)
from tests.unit.policy_support import (
    ACCOUNT,
    OTHER_ACCOUNT,
    ROLE,
    ROOT,
    SESSION,
    USER,
    policy,
    request,
    stmt,
)

OBJ = "arn:aws:s3:::bucket/key"
ALLOW = stmt(action="s3:GetObject", resource=OBJ)
DENY = stmt("Deny", action="s3:*", resource="*")


def bucket_policy(*statements):
    return policy(*statements, source="bucket-policy")


def grant(principal, effect="Allow", action="s3:GetObject", resource=OBJ, **extra):
    return stmt(effect, action=action, resource=resource, Principal=principal, **extra)


# --- precedence --------------------------------------------------------------------------------------


def test_implicit_deny_without_policies():
    d = evaluate(request(), [])
    assert (d.allowed, d.kind, d.policy_type) == (False, "implicit_deny", "identity-based")
    assert d.because() == "because no identity-based policy allows the s3:GetObject action"


def test_identity_allow():
    d = evaluate(request(), [policy(ALLOW, source="p1")])
    assert (d.allowed, d.kind, d.policy_type) == (True, "allow", None)
    assert [(r.source, r.index, r.effect) for r in d.statements] == [("p1", 0, "Allow")]
    assert d.because() == ""


def test_explicit_deny_beats_identity_allow_in_same_and_other_policy():
    d = evaluate(request(), [policy(ALLOW, stmt("Deny", Sid="NoGet", resource=OBJ), source="p")])
    assert (d.allowed, d.kind, d.policy_type) == (False, "explicit_deny", "identity-based")
    assert d.statements[0].sid == "NoGet"
    assert d.because() == "with an explicit deny in an identity-based policy"
    assert not evaluate(request(), [policy(ALLOW), policy(DENY)]).allowed
    assert not evaluate(request(), [policy(DENY), policy(ALLOW)]).allowed


def test_explicit_deny_in_resource_policy_beats_identity_allow():
    d = evaluate(request(), [policy(ALLOW)], bucket_policy(grant("*", "Deny")))
    assert (d.allowed, d.kind, d.policy_type) == (False, "explicit_deny", "resource-based")
    assert d.because() == "with an explicit deny in a resource-based policy"


def test_explicit_deny_in_identity_beats_resource_allow():
    d = evaluate(request(), [policy(DENY)], bucket_policy(grant({"AWS": USER})))
    assert (d.kind, d.policy_type) == ("explicit_deny", "identity-based")


def test_resource_deny_applies_only_to_named_principals():
    rp = bucket_policy(grant({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, "Deny"))
    assert evaluate(request(), [policy(ALLOW)], rp).allowed
    assert not evaluate(request(principal=f"arn:aws:iam::{ACCOUNT}:user/bob"), [policy(ALLOW)], rp).allowed


def test_resource_deny_naming_account_applies_to_everyone_in_it():
    rp = bucket_policy(grant({"AWS": ACCOUNT}, "Deny"))
    assert not evaluate(request(), [policy(ALLOW)], rp).allowed
    assert not evaluate(request(principal=ROOT), [], rp).allowed  # even the root user


def test_explain_collects_every_matching_statement():
    p = policy(ALLOW, stmt(Sid="Also", resource="arn:aws:s3:::bucket/*"), stmt("Deny", Sid="D", resource=OBJ))
    d = evaluate(request(), [p], explain=True)
    assert d.kind == "explicit_deny"
    assert [r.sid for r in d.statements] == ["D"]
    d = evaluate(request(), [policy(ALLOW, stmt(Sid="Also", resource="arn:aws:s3:::bucket/*"))], explain=True)
    assert d.allowed and len(d.statements) == 2


# --- resource policies: which principals they name ------------------------------------------------------

SAME_ACCOUNT_RESOURCE_CASES = [
    # (Principal element, caller, identity allows?, expected)
    ("*", USER, False, True),
    ({"AWS": "*"}, SESSION, False, True),
    ({"AWS": USER}, USER, False, True),
    ({"AWS": [f"arn:aws:iam::{ACCOUNT}:user/bob", USER]}, USER, False, True),
    ({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, USER, False, False),
    ({"AWS": ROLE}, SESSION, False, True),  # the role ARN grants its sessions
    ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/MyRole"}, SESSION, False, True),  # path-less role ARN
    ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/OtherRole"}, SESSION, False, False),
    ({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/MyRole"}, SESSION, False, False),
    ({"AWS": SESSION}, SESSION, False, True),  # the exact session ARN
    ({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/MyRole/Other"}, SESSION, False, False),
    ({"AWS": ROLE}, USER, False, False),
    # naming the account delegates to it: identity policies must allow too
    ({"AWS": ACCOUNT}, USER, False, False),
    ({"AWS": ROOT}, USER, False, False),
    ({"AWS": ACCOUNT}, USER, True, True),
    ({"AWS": ROOT}, ROOT, False, True),
    ({"Service": "sagemaker.amazonaws.com"}, SESSION, False, False),  # a service principal is not the role
]


@pytest.mark.parametrize(("principal", "caller", "identity_allows", "expected"), SAME_ACCOUNT_RESOURCE_CASES)
def test_resource_policy_principals_same_account(principal, caller, identity_allows, expected):
    identity = [policy(ALLOW)] if identity_allows else []
    assert evaluate(request(principal=caller), identity, bucket_policy(grant(principal))).allowed is expected


def test_role_arn_with_path_known_to_the_caller():
    rp = bucket_policy(grant({"AWS": ROLE}))
    assert evaluate(request(principal=SESSION, role_arn=ROLE), [], rp).allowed
    other_path = f"arn:aws:iam::{ACCOUNT}:role/other-path/MyRole"
    assert not evaluate(request(principal=SESSION, role_arn=other_path), [], rp).allowed


def test_resource_allow_for_another_action_or_resource_does_not_apply():
    rp = bucket_policy(grant("*", action="s3:PutObject"), grant("*", resource="arn:aws:s3:::bucket/other"))
    d = evaluate(request(), [], rp)
    assert (d.kind, d.policy_type) == ("implicit_deny", "identity-based")


def test_resource_statement_conditions_apply():
    rp = bucket_policy(grant("*", Condition={"Bool": {"aws:SecureTransport": "true"}}))
    assert evaluate(request(**{"aws:SecureTransport": "true"}), [], rp).allowed
    assert not evaluate(request(**{"aws:SecureTransport": "false"}), [], rp).allowed


def test_deny_unless_secure_transport_bucket_policy():
    rp = bucket_policy(
        grant("*", "Deny", action="s3:*", resource="*", Condition={"Bool": {"aws:SecureTransport": "false"}})
    )
    assert evaluate(request(**{"aws:SecureTransport": "true"}), [policy(ALLOW)], rp).allowed
    assert not evaluate(request(**{"aws:SecureTransport": "false"}), [policy(ALLOW)], rp).allowed


@pytest.mark.parametrize(
    ("not_principal", "caller", "denied"),
    [
        ({"AWS": USER}, USER, True),  # the account is not listed: still denied
        ({"AWS": [USER, ROOT]}, USER, False),
        ({"AWS": [USER, ACCOUNT]}, f"arn:aws:iam::{ACCOUNT}:user/bob", True),
        ({"AWS": [ROLE, ROOT]}, SESSION, True),  # the session ARN is not listed
        ({"AWS": [SESSION, ROLE, ROOT]}, SESSION, False),
        ({"AWS": ROOT}, ROOT, False),
        ("*", USER, False),
    ],
)
def test_not_principal_deny(not_principal, caller, denied):
    rp = bucket_policy(stmt("Deny", action="s3:*", resource="*", NotPrincipal=not_principal))
    d = evaluate(request(principal=caller), [policy(ALLOW)], rp)
    assert (d.kind == "explicit_deny") is denied


def test_resource_statement_without_principal_names_no_one():
    assert not evaluate(request(), [], bucket_policy(stmt())).allowed


# --- session policies ----------------------------------------------------------------------------------


def session_request(**kw):
    return request(principal=SESSION, **kw)


def test_session_policy_intersects_identity():
    s_allow = policy(stmt(action="s3:GetObject", resource="*"), source="session")
    s_other = policy(stmt(action="s3:PutObject", resource="*"), source="session")
    assert evaluate(session_request(), [policy(ALLOW)], session=[s_allow]).allowed
    d = evaluate(session_request(), [policy(ALLOW)], session=[s_other])
    assert (d.allowed, d.kind, d.policy_type) == (False, "implicit_deny", "session")
    assert d.because() == "because no session policy allows the s3:GetObject action"
    # the session policy alone grants nothing
    d = evaluate(session_request(), [], session=[s_allow])
    assert (d.allowed, d.policy_type) == (False, "identity-based")


def test_no_or_empty_session_policies_do_not_limit():
    assert evaluate(session_request(), [policy(ALLOW)], session=None).allowed
    assert evaluate(session_request(), [policy(ALLOW)], session=[]).allowed


def test_session_policy_deny():
    d = evaluate(session_request(), [policy(ALLOW)], session=[policy(stmt(action="*"), DENY)])
    assert (d.kind, d.policy_type) == ("explicit_deny", "session")
    assert d.because() == "with an explicit deny in a session policy"


def test_resource_allow_naming_role_is_limited_by_session_policy():
    rp = bucket_policy(grant({"AWS": ROLE}))
    s_other = policy(stmt(action="s3:PutObject"))
    d = evaluate(session_request(), [], rp, session=[s_other])
    assert (d.allowed, d.policy_type) == (False, "session")
    assert evaluate(session_request(), [], rp, session=[policy(stmt())]).allowed


def test_resource_allow_naming_session_is_not_limited_by_session_policy():
    rp = bucket_policy(grant({"AWS": SESSION}))
    assert evaluate(session_request(), [], rp, session=[policy(stmt(action="s3:PutObject"))]).allowed


# --- cross-account ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity_allows", "principal", "expected", "missing"),
    [
        (True, {"AWS": USER}, True, None),
        (True, {"AWS": ACCOUNT}, True, None),
        (True, "*", True, None),
        (False, {"AWS": USER}, False, "identity-based"),
        (True, None, False, "resource-based"),
        (True, {"AWS": OTHER_ACCOUNT}, False, "resource-based"),
    ],
)
def test_cross_account_needs_both(identity_allows, principal, expected, missing):
    identity = [policy(ALLOW)] if identity_allows else []
    rp = bucket_policy(grant(principal)) if principal is not None else None
    d = evaluate(request(), identity, rp, resource_account=OTHER_ACCOUNT)
    assert d.allowed is expected
    assert d.policy_type == missing
    if missing == "resource-based":
        assert d.because() == "because no resource-based policy allows the s3:GetObject action"


def test_cross_account_session_policy_still_limits():
    rp = bucket_policy(grant({"AWS": SESSION}))
    d = evaluate(
        session_request(),
        [policy(ALLOW)],
        rp,
        session=[policy(stmt(action="s3:PutObject"))],
        resource_account=OTHER_ACCOUNT,
    )
    assert (d.allowed, d.policy_type) == (False, "session")


def test_same_account_when_resource_account_matches():
    assert evaluate(request(), [policy(ALLOW)], resource_account=ACCOUNT).allowed


# --- root, services, trust policies ------------------------------------------------------------------------


def test_root_has_all_identity_permissions_in_its_account():
    assert evaluate(request(principal=ROOT, action="iam:CreateUser", resource="*"), []).allowed
    assert not evaluate(request(principal=ROOT), [], resource_account=OTHER_ACCOUNT).allowed


TRUST = compile_policy(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    },
    "trust",
)


def test_trust_policy_lets_the_service_assume_the_role():
    req = AuthzRequest("sagemaker.amazonaws.com", ACCOUNT, "sts:AssumeRole", ROLE)
    assert evaluate(req, [], TRUST, resource_must_allow=True).allowed
    other = AuthzRequest("ec2.amazonaws.com", ACCOUNT, "sts:AssumeRole", ROLE)
    d = evaluate(other, [], TRUST, resource_must_allow=True)
    assert (d.allowed, d.policy_type) == (False, "resource-based")
    assert not evaluate(
        AuthzRequest("sagemaker.amazonaws.com", ACCOUNT, "sts:TagSession", ROLE), [], TRUST
    ).allowed


def test_trust_policy_required_even_with_identity_allow():
    identity = [policy(stmt(action="sts:AssumeRole", resource=ROLE))]
    d = evaluate(request(action="sts:AssumeRole", resource=ROLE), identity, TRUST, resource_must_allow=True)
    assert (d.allowed, d.policy_type) == (False, "resource-based")
    account_trust = policy(stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": ACCOUNT}))
    req = request(action="sts:AssumeRole", resource=ROLE)
    assert evaluate(req, identity, account_trust, resource_must_allow=True).allowed
    assert not evaluate(req, [], account_trust, resource_must_allow=True).allowed
    user_trust = policy(stmt(action="sts:AssumeRole", resource=None, Principal={"AWS": USER}))
    assert evaluate(req, [], user_trust, resource_must_allow=True).allowed


def test_anonymous_only_through_public_resource_policy():
    anon = AuthzRequest("", ACCOUNT, "s3:GetObject", OBJ)
    assert evaluate(anon, [], bucket_policy(grant("*"))).allowed
    assert not evaluate(anon, [], bucket_policy(grant({"AWS": ACCOUNT}))).allowed
    assert not evaluate(anon, [policy(ALLOW)]).allowed


@pytest.mark.parametrize(
    ("arn", "kind", "account", "name"),
    [
        (USER, "user", ACCOUNT, "alice"),
        (f"arn:aws:iam::{ACCOUNT}:user/path/to/bob", "user", ACCOUNT, "bob"),
        (SESSION, "assumed-role", ACCOUNT, "MyRole"),
        (ROOT, "root", ACCOUNT, ""),
        ("sagemaker.amazonaws.com", "service", "", "sagemaker.amazonaws.com"),
        ("", "anonymous", "", ""),
        (f"arn:aws:sts::{ACCOUNT}:federated-user/carol", "federated-user", ACCOUNT, "carol"),
    ],
)
def test_parse_principal(arn, kind, account, name):
    p = parse_principal(arn)
    assert (p.kind, p.account, p.name) == (kind, account, name)


# --- derived context keys, messages -------------------------------------------------------------------------


def test_derived_principal_keys():
    cond = {"StringEquals": {"aws:PrincipalType": "AssumedRole", "aws:PrincipalAccount": ACCOUNT}}
    doc = policy(stmt(Condition=cond))
    assert evaluate(session_request(), [doc]).allowed
    assert not evaluate(request(), [doc]).allowed
    arn_cond = policy(
        stmt(Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:sts::*:assumed-role/MyRole/*"}})
    )
    assert evaluate(session_request(), [arn_cond]).allowed


def test_context_overrides_derived_keys():
    doc = policy(stmt(Condition={"StringEquals": {"aws:username": "someone"}}))
    assert evaluate(request(**{"aws:username": "someone"}), [doc]).allowed
    assert not evaluate(request(), [doc]).allowed


def test_access_denied_message():
    req = request(principal=SESSION)
    d = evaluate(req, [])
    assert access_denied_message(req, d) == (
        f"User: {SESSION} is not authorized to perform: s3:GetObject on resource: {OBJ} "
        "because no identity-based policy allows the s3:GetObject action"
    )
    req = request(action="s3:ListAllMyBuckets", resource="*")
    d = evaluate(req, [policy(stmt("Deny", action="s3:*"))])
    assert access_denied_message(req, d) == (
        f"User: {USER} is not authorized to perform: s3:ListAllMyBuckets "
        "with an explicit deny in an identity-based policy"
    )


# --- compiling ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        {"Version": "2012-10-17"},
        {"Version": "2099-01-01", "Statement": [ALLOW]},
        {"Statement": []},
        {"Statement": [{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "x"}]},
        {"Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": [1], "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Principal": {"AWS": "not-an-arn"}}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Principal": {"Bogus": "x"}}]},
        {"Statement": ["string"]},
    ],
)
def test_malformed_documents(document):
    with pytest.raises(PolicyError) as err:
        compile_policy(document, "bad")
    assert err.value.code == "MalformedPolicyDocument"


def test_compile_cached_by_content():
    doc = {"Version": "2012-10-17", "Statement": [ALLOW]}
    a = compile_policy(doc, "src")
    assert compile_policy(json.dumps(doc, sort_keys=True, separators=(",", ":")), "src") is a
    assert compile_policy(dict(reversed(list(doc.items()))), "src") is a
    assert compile_policy(doc, "other") is not a


def test_single_statement_object_and_string_values():
    doc = compile_policy({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJ}}, "s")
    assert evaluate(request(), [doc]).allowed


def test_statements_indexed_by_service():
    p = policy(
        stmt(Sid="S3", action=["s3:GetObject", "s3:PutObject"]),
        stmt(Sid="SM", action="sagemaker:*"),
        stmt(Sid="Any", action="*"),
        stmt(Sid="Not", NotAction="iam:*"),
        stmt(Sid="Wild", action="s?:List*"),
    )
    assert [s.ref.sid for s in p.for_service("s3")] == ["S3", "Any", "Not", "Wild"]
    assert [s.ref.sid for s in p.for_service("sagemaker")] == ["SM", "Any", "Not", "Wild"]
    assert [s.ref.sid for s in p.for_service("logs")] == ["Any", "Not", "Wild"]
    assert [s.ref.sid for s in p.for_action("s3:getobject")] == ["S3", "Any", "Not"]
    assert [s.ref.sid for s in p.for_action("iam:passrole")] == ["Any"]
