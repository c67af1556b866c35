"""Action/NotAction, Resource/NotResource and policy variables in resources."""

from __future__ import annotations

import pytest

from tests.unit.policy_support import allows, policy, request, stmt

ACTION_CASES = [
    # (policy action(s), requested action, allowed)
    ("s3:GetObject", "s3:GetObject", True),
    ("s3:GetObject", "s3:getobject", True),
    ("S3:GETOBJECT", "s3:GetObject", True),
    ("s3:Get*", "s3:GetObjectTagging", True),
    ("s3:get*", "s3:GetObject", True),
    ("s3:Get*", "s3:PutObject", False),
    ("s3:Get*", "s3:Get", True),  # `*` matches zero characters
    ("s3:*", "s3:ListBucket", True),
    ("s3:*", "sagemaker:ListModels", False),
    ("*", "iam:PassRole", True),
    ("s3:?etObject", "s3:GetObject", True),
    ("s3:?etObject", "s3:SetObject", True),
    ("s3:?etObject", "s3:GGetObject", False),
    ("s3:Get?", "s3:GetObject", False),  # `?` is exactly one character
    ("s?:GetObject", "s3:GetObject", True),  # wildcard in the service prefix
    ("s*:GetObject", "sagemaker:GetObject", True),
    ("s3:GetObject", "s3:GetObjectAcl", False),  # no implicit prefix match
    ("s3:GetObject", "s3x:GetObject", False),
    (["s3:PutObject", "s3:GetObject"], "s3:GetObject", True),
    (["s3:PutObject", "s3:DeleteObject"], "s3:GetObject", False),
    ("sagemaker:*", "sagemaker:CreateTrainingJob", True),
    ("sagemaker:Describe*", "sagemaker:CreateTrainingJob", False),
    ("s3:*Object", "s3:GetObject", True),
    ("s3:*Object", "s3:GetObjectAcl", False),
]


@pytest.mark.parametrize(("pattern", "action", "expected"), ACTION_CASES)
def test_action(pattern, action, expected):
    assert allows(stmt(action=pattern), request(action=action)) is expected


@pytest.mark.parametrize(
    ("not_action", "action", "expected"),
    [
        ("s3:*", "s3:GetObject", False),
        ("s3:*", "sagemaker:ListModels", True),
        ("iam:*", "s3:GetObject", True),
        (["s3:Delete*", "s3:Put*"], "s3:getobject", True),
        (["s3:Delete*", "s3:Put*"], "s3:PutObject", False),
        ("s3:DeleteObject", "S3:DELETEOBJECT", False),
        ("*", "s3:GetObject", False),
    ],
)
def test_not_action(not_action, action, expected):
    assert allows(stmt(NotAction=not_action), request(action=action)) is expected


def test_not_action_deny_denies_everything_else_but_not_the_listed():
    statements = [stmt(action="*"), stmt("Deny", NotAction=["s3:Get*", "s3:List*"])]
    assert allows(statements, request(action="s3:GetObject"))
    assert not allows(statements, request(action="s3:PutObject"))
    assert not allows(statements, request(action="sagemaker:CreateModel"))


RESOURCE_CASES = [
    # (policy resource(s), requested resource, allowed)
    ("*", "arn:aws:s3:::anything/at/all", True),
    ("arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket/key", True),
    ("arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket/Key", False),  # case-sensitive
    ("arn:aws:s3:::Bucket/key", "arn:aws:s3:::bucket/key", False),
    ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket", True),
    ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket/key", True),  # `*` crosses `/`
    ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket-2/key", True),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),  # the bucket itself is not an object
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket-2/key", False),
    ("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/a", True),
    ("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/ab", False),
    ("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/", False),
    ("arn:aws:s3:::*sagemaker*", "arn:aws:s3:::any-bucket/dir/sagemaker-data.csv", True),
    ("arn:aws:s3:::*sagemaker*", "arn:aws:s3:::any-bucket/dir/SageMaker-data.csv", False),
    ("arn:aws:s3:::*", "*", False),  # an action without a resource needs Resource "*"
    ("arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:role/service-role/R", True),
    ("arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:user/R", False),
    ("arn:aws:sagemaker:*:*:training-job/*", "arn:aws:sagemaker:us-east-1:123:training-job/j1", True),
    (["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"], "arn:aws:s3:::b/k", True),
    (["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"], "arn:aws:s3:::c/k", False),
    ("arn:aws:s3:::a.b/*", "arn:aws:s3:::aXb/k", False),  # regex metacharacters are literal
    ("arn:aws:s3:::a+b/(k)", "arn:aws:s3:::a+b/(k)", True),
    ("arn:aws:s3:::a/[k]*", "arn:aws:s3:::a/[k]x", True),
]


@pytest.mark.parametrize(("pattern", "resource", "expected"), RESOURCE_CASES)
def test_resource(pattern, resource, expected):
    assert allows(stmt(resource=pattern), request(resource=resource)) is expected


@pytest.mark.parametrize(
    ("not_resource", "resource", "expected"),
    [
        ("arn:aws:s3:::secret/*", "arn:aws:s3:::secret/k", False),
        ("arn:aws:s3:::secret/*", "arn:aws:s3:::public/k", True),
        ("arn:aws:s3:::secret/*", "arn:aws:s3:::secret", True),
        (["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"], "arn:aws:s3:::b/k", False),
        ("*", "arn:aws:s3:::b/k", False),
        ("arn:aws:s3:::x", "*", True),
    ],
)
def test_not_resource(not_resource, resource, expected):
    assert allows(stmt(resource=None, NotResource=not_resource), request(resource=resource)) is expected


def test_deny_with_not_resource_protects_everything_outside():
    statements = [
        stmt(action="s3:*"),
        stmt("Deny", action="s3:*", resource=None, NotResource="arn:aws:s3:::mine/*"),
    ]
    assert allows(statements, request(resource="arn:aws:s3:::mine/k"))
    assert not allows(statements, request(resource="arn:aws:s3:::theirs/k"))


# --- policy variables in Resource -------------------------------------------------------------------

HOME = "arn:aws:s3:::home/${aws:username}/*"


@pytest.mark.parametrize(
    ("pattern", "resource", "context", "expected"),
    [
        (HOME, "arn:aws:s3:::home/alice/notes.txt", {}, True),  # aws:username derived from the user ARN
        (HOME, "arn:aws:s3:::home/bob/notes.txt", {}, False),
        (HOME, "arn:aws:s3:::home/ALICE/notes.txt", {}, False),
        (
            "arn:aws:s3:::home/${AWS:UserName}/*",
            "arn:aws:s3:::home/alice/k",
            {},
            True,
        ),  # key case-insensitive
        (
            "arn:aws:s3:::b/${aws:userid}/*",
            "arn:aws:s3:::b/AIDAEXAMPLE/k",
            {"aws:userid": "AIDAEXAMPLE"},
            True,
        ),
        ("arn:aws:s3:::b/${aws:userid}/*", "arn:aws:s3:::b/AIDAEXAMPLE/k", {}, False),  # no value: no match
        ("arn:aws:s3:::b/${aws:userid, 'nobody'}/*", "arn:aws:s3:::b/nobody/k", {}, True),
        ("arn:aws:s3:::b/${aws:userid, 'nobody'}/*", "arn:aws:s3:::b/X/k", {"aws:userid": "X"}, True),
        ("arn:aws:s3:::b/${aws:userid,'it''s'}", "arn:aws:s3:::b/it's", {}, True),
        ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", {}, True),  # ${*} is a literal asterisk
        ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/anything", {}, False),
        ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/?", {}, True),
        ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/x", {}, False),
        ("arn:aws:s3:::b/${$}x", "arn:aws:s3:::b/$x", {}, True),
        ("arn:aws:s3:::b/${aws:SourceIp}", "arn:aws:s3:::b/10.0.0.1", {"aws:SourceIp": "10.0.0.1"}, True),
        # a substituted value is literal text, never a wildcard
        ("arn:aws:s3:::b/${s3:x}", "arn:aws:s3:::b/anything", {"s3:x": "*"}, False),
        ("arn:aws:s3:::b/${s3:x}", "arn:aws:s3:::b/*", {"s3:x": "*"}, True),
        # a multi-valued key is no value
        ("arn:aws:s3:::b/${aws:TagKeys}", "arn:aws:s3:::b/a", {"aws:TagKeys": ["a"]}, False),
        (
            "arn:aws:s3:::b/${aws:PrincipalArn}",
            "arn:aws:s3:::b/arn:aws:iam::123456789012:user/alice",
            {},
            True,
        ),
    ],
)
def test_resource_variables(pattern, resource, context, expected):
    assert allows(stmt(resource=pattern), request(resource=resource, **context)) is expected


def test_variables_are_literal_in_2008_policies_and_without_version():
    for version in ("2008-10-17", None):
        doc = policy(stmt(resource=HOME), version=version)
        from sagelocal.services.iam.policy import evaluate

        assert not evaluate(request(resource="arn:aws:s3:::home/alice/k"), [doc]).allowed
        assert evaluate(request(resource="arn:aws:s3:::home/${aws:username}/k"), [doc]).allowed


def test_not_resource_with_unresolvable_variable_excludes_nothing():
    s = stmt(resource=None, NotResource="arn:aws:s3:::b/${aws:userid}/*")
    assert allows(s, request(resource="arn:aws:s3:::b/X/k"))  # no userid: the exclusion matches nothing
    assert not allows(s, request(resource="arn:aws:s3:::b/X/k", **{"aws:userid": "X"}))


def test_session_principal_has_no_username():
    s = stmt(resource=HOME)
    assert not allows(
        s,
        request(
            resource="arn:aws:s3:::home/MyRole/k", principal="arn:aws:sts::123456789012:assumed-role/MyRole/s"
        ),
    )
