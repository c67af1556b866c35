"""The workflow's S3 rules for a role holding only AmazonSageMakerFullAccess (the shipped document)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sagelocal
from sagelocal.services.iam.policy import AuthzRequest, compile_policy, evaluate
from tests.unit.policy_support import ACCOUNT, policy, stmt

POLICIES = Path(sagelocal.__file__).parent / "data" / "policies"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-20260101T000000"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/AmazonSageMaker-ExecutionRole-20260101T000000/SageMaker"


def _load(name: str):
    text = (POLICIES / name).read_text()
    doc = json.loads(text)["PolicyVersion"]["Document"]
    return compile_policy(doc, "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")


FULL_ACCESS = _load("AmazonSageMakerFullAccess.v_head.json")
FULL_ACCESS_2019 = _load("AmazonSageMakerFullAccess.2019-10-30.json")


def obj(bucket: str, key: str = "data/train.csv") -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def ask(action: str, resource: str, policies=(FULL_ACCESS,), bucket_policy=None, **context):
    req = AuthzRequest(SESSION, ACCOUNT, action, resource, context, role_arn=ROLE_ARN)
    return evaluate(req, list(policies), bucket_policy)


# Rule 1: bucket names containing sagemaker / SageMaker / Sagemaker.
BUCKET_NAME_CASES = [
    ("my-sagemaker-s3-bucket", True),
    ("sagemaker-us-east-1-123456789012", True),
    ("mysagemakerbucket", True),
    ("team-SageMaker-data", True),
    ("team-Sagemaker-data", True),
    ("my-s3-bucket", False),
    ("team-SAGEMAKER-data", False),  # ARNs are case-sensitive; only three spellings are listed
    ("team-sageMaker-data", False),
    ("team-sage-maker-data", False),
    ("my-aws-glue-bucket", True),
]


@pytest.mark.parametrize(
    "action", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
)
@pytest.mark.parametrize(("bucket", "expected"), BUCKET_NAME_CASES)
def test_rule1_bucket_name(action, bucket, expected):
    d = ask(action, obj(bucket))
    assert d.allowed is expected
    if expected:
        assert d.statements[0].sid == "AllowS3ObjectActions"
    else:
        assert d.because() == f"because no identity-based policy allows the {action} action"


# Rule 2: an object whose key contains "sagemaker", in any bucket (`*` crosses `/`).
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("my-sagemaker-object.csv", True),
        ("dir/sub/SageMaker/train.csv", True),
        ("Sagemaker.txt", True),
        ("my-object.csv", False),
        ("SAGEMAKER.csv", False),
    ],
)
@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
def test_rule2_object_key(action, key, expected):
    assert ask(action, obj("my-s3-bucket", key)).allowed is expected


# Rule 3: GetObject on objects tagged SageMaker=true (any case of "true"); PutObject not.
@pytest.mark.parametrize(
    ("action", "tags", "expected", "sid"),
    [
        (
            "s3:GetObject",
            {"s3:ExistingObjectTag/SageMaker": "true"},
            True,
            "AllowS3GetObjectWithSageMakerExistingObjectTag",
        ),
        ("s3:GetObject", {"s3:ExistingObjectTag/SageMaker": "True"}, True, None),
        ("s3:GetObject", {"s3:ExistingObjectTag/SageMaker": "TRUE"}, True, None),
        ("s3:GetObject", {"s3:ExistingObjectTag/SageMaker": "false"}, False, None),
        ("s3:GetObject", {"s3:ExistingObjectTag/SageMaker": "yes"}, False, None),
        ("s3:GetObject", {"s3:ExistingObjectTag/Project": "true"}, False, None),
        ("s3:GetObject", {}, False, None),
        ("s3:PutObject", {"s3:ExistingObjectTag/SageMaker": "true"}, False, None),
        ("s3:DeleteObject", {"s3:ExistingObjectTag/SageMaker": "true"}, False, None),
        ("s3:GetObject", {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}, True, None),
    ],
)
def test_rule3_sagemaker_tag(action, tags, expected, sid):
    d = ask(action, obj("my-s3-bucket", "my-object.csv"), **tags)
    assert d.allowed is expected
    if sid:
        assert d.statements[0].sid == sid


# Rule 4: creating and listing buckets (any bucket), bucket location and CORS.
@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        ("s3:CreateBucket", "arn:aws:s3:::my-s3-bucket", True),
        ("s3:ListAllMyBuckets", "*", True),
        ("s3:ListBucket", "arn:aws:s3:::my-s3-bucket", True),
        ("s3:GetBucketLocation", "arn:aws:s3:::my-s3-bucket", True),
        ("s3:GetBucketCors", "arn:aws:s3:::my-s3-bucket", True),
        ("s3:PutBucketCors", "arn:aws:s3:::my-s3-bucket", True),
        ("s3:DeleteBucket", "arn:aws:s3:::my-sagemaker-bucket", False),
        ("s3:PutBucketPolicy", "arn:aws:s3:::my-sagemaker-bucket", False),
        ("s3:GetBucketAcl", "arn:aws:s3:::my-sagemaker-bucket", True),
        ("s3:GetBucketAcl", "arn:aws:s3:::my-s3-bucket", False),
        ("s3:GetBucketAcl", "arn:aws:s3:::my-aws-glue-bucket", False),  # ACLs: no aws-glue spelling
        ("s3:PutObjectAcl", obj("my-sagemaker-bucket"), True),
        ("s3:GetObjectTagging", obj("my-sagemaker-bucket"), False),
        ("s3:DeleteObjectVersion", obj("my-sagemaker-bucket"), False),
    ],
)
def test_rule4_bucket_actions(action, resource, expected):
    assert ask(action, resource).allowed is expected


# Rule 5: a bucket whose policy allows the role, or an extra policy naming buckets.
def test_rule5_bucket_policy_granting_the_role():
    bucket = policy(
        stmt(
            action=["s3:GetObject", "s3:PutObject"],
            resource="arn:aws:s3:::my-s3-bucket/*",
            Principal={"AWS": ROLE_ARN},
        ),
        source="bucket-policy",
    )
    assert ask("s3:GetObject", obj("my-s3-bucket"), bucket_policy=bucket).allowed
    assert ask("s3:PutObject", obj("my-s3-bucket"), bucket_policy=bucket).allowed
    assert not ask("s3:DeleteObject", obj("my-s3-bucket"), bucket_policy=bucket).allowed
    assert not ask("s3:GetObject", obj("other-bucket"), bucket_policy=bucket).allowed
    # naming only the account delegates: the role's identity policies must allow, and they do not
    account_only = policy(stmt(resource="arn:aws:s3:::my-s3-bucket/*", Principal={"AWS": ACCOUNT}))
    assert not ask("s3:GetObject", obj("my-s3-bucket"), bucket_policy=account_only).allowed
    # a service principal is not the role
    service = policy(
        stmt(resource="arn:aws:s3:::my-s3-bucket/*", Principal={"Service": "sagemaker.amazonaws.com"})
    )
    assert not ask("s3:GetObject", obj("my-s3-bucket"), bucket_policy=service).allowed


@pytest.mark.parametrize(
    ("extra", "bucket", "expected"),
    [
        # the console's "specific S3 buckets" choice
        (["arn:aws:s3:::my-s3-bucket", "arn:aws:s3:::my-s3-bucket/*"], "my-s3-bucket", True),
        (["arn:aws:s3:::my-s3-bucket", "arn:aws:s3:::my-s3-bucket/*"], "my-s3-bucket-2", False),
        # "any S3 bucket"
        (["arn:aws:s3:::*"], "whatever-bucket", True),
    ],
)
def test_rule5_extra_policy_naming_buckets(extra, bucket, expected):
    named = policy(
        stmt(action=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"], resource=extra)
    )
    assert ask("s3:GetObject", obj(bucket), policies=(FULL_ACCESS, named)).allowed is expected
    assert ask("s3:PutObject", obj(bucket), policies=(FULL_ACCESS, named)).allowed is expected


def test_explicit_deny_in_bucket_policy_beats_full_access():
    bucket = policy(stmt("Deny", action="s3:*", resource="arn:aws:s3:::my-sagemaker-bucket/*", Principal="*"))
    d = ask("s3:GetObject", obj("my-sagemaker-bucket"), bucket_policy=bucket)
    assert (d.kind, d.policy_type) == ("explicit_deny", "resource-based")


@pytest.mark.parametrize(
    ("passed_to", "role", "expected"),
    [
        ("sagemaker.amazonaws.com", ROLE_ARN, True),
        ("sagemaker.amazonaws.com", f"arn:aws:iam::{ACCOUNT}:role/AnyRole", True),
        (None, ROLE_ARN, False),
        ("ec2.amazonaws.com", ROLE_ARN, False),
        ("glue.amazonaws.com", ROLE_ARN, True),  # AllowPassRoleForSageMakerRoles: *AmazonSageMaker* roles
        ("glue.amazonaws.com", f"arn:aws:iam::{ACCOUNT}:role/AnyRole", False),
    ],
)
def test_pass_role(passed_to, role, expected):
    context = {} if passed_to is None else {"iam:PassedToService": passed_to}
    assert ask("iam:PassRole", role, **context).allowed is expected


@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        ("sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/job-1", True),
        (
            "sagemaker:CreateNotebookInstance",
            f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:notebook-instance/nb",
            True,
        ),
        ("sagemaker:InvokeEndpoint", f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/ep", True),
        ("logs:PutLogEvents", "*", True),
        ("iam:ListRoles", "*", True),
        ("iam:CreateRole", "*", False),
        ("sts:AssumeRole", ROLE_ARN, False),
    ],
)
def test_other_services(action, resource, expected):
    assert ask(action, resource).allowed is expected


def test_2019_version_same_s3_rules():
    for bucket, expected in (("my-sagemaker-s3-bucket", True), ("my-s3-bucket", False)):
        assert ask("s3:GetObject", obj(bucket), policies=(FULL_ACCESS_2019,)).allowed is expected
    tagged = {"s3:ExistingObjectTag/SageMaker": "true"}
    assert ask("s3:GetObject", obj("my-s3-bucket"), policies=(FULL_ACCESS_2019,), **tagged).allowed
    assert not ask("s3:PutObject", obj("my-s3-bucket"), policies=(FULL_ACCESS_2019,), **tagged).allowed
    assert ask("s3:CreateBucket", "arn:aws:s3:::my-s3-bucket", policies=(FULL_ACCESS_2019,)).allowed
