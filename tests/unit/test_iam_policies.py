"""Managed policies through the provider: AWS managed ones from data, customer ones with versions."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from sagelocal.services.iam import managed
from tests.unit.iam_helpers import ACCOUNT, S3_READ, TRUST_SAGEMAKER, IamClient, make_client, raises

SM_FULL = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


def doc(action: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
    )


@pytest.fixture
def iam(tmp_path: Path) -> IamClient:
    return make_client(tmp_path)


def test_managed_catalog() -> None:
    names = [p.name for p in managed.all_policies()]
    assert names == [
        "AdministratorAccess",
        "AmazonS3FullAccess",
        "AmazonS3ReadOnlyAccess",
        "AmazonSageMakerFullAccess",
        "AmazonSageMakerReadOnly",
    ]
    sm = managed.get(SM_FULL)
    assert sm is not None and sm.default_version_id == "v29" and sm.path == "/"
    assert [v.version_id for v in sm.versions] == ["v29", "v14"]
    assert sm.document["Statement"][0]["Sid"] == "AllowAllNonAdminSageMakerActions"
    admin = managed.by_name("AdministratorAccess")
    assert admin is not None
    assert admin.document == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }


def test_aws_managed_policies_through_api(iam: IamClient) -> None:
    aws = iam.list_policies(Scope="AWS")["Policies"]
    assert {p["PolicyName"] for p in aws} >= {
        "AdministratorAccess",
        "AmazonSageMakerFullAccess",
        "AmazonS3FullAccess",
    }
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in aws)
    assert iam.list_policies(Scope="Local")["Policies"] == []

    policy = iam.get_policy(PolicyArn=SM_FULL)["Policy"]
    assert policy["DefaultVersionId"] == "v29" and policy["IsAttachable"] is True
    assert policy["Description"].startswith("Provides full access to Amazon SageMaker")
    version = iam.get_policy_version(PolicyArn=SM_FULL, VersionId="v29")["PolicyVersion"]
    assert version["IsDefaultVersion"] is True
    assert version["Document"]["Statement"][0]["Action"] == ["sagemaker:*", "sagemaker-geospatial:*"]
    old = iam.get_policy_version(PolicyArn=SM_FULL, VersionId="v14")["PolicyVersion"]
    assert old["IsDefaultVersion"] is False and old["Document"]["Statement"][0]["Resource"] == "*"
    versions = iam.list_policy_versions(PolicyArn=SM_FULL)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v29", "v14"]
    raises("NoSuchEntity", iam.get_policy_version, PolicyArn=SM_FULL, VersionId="v1")

    missing = "arn:aws:iam::aws:policy/NotAPolicy"
    err = raises("NoSuchEntity", iam.get_policy, PolicyArn=missing)
    assert err.message == f"Policy {missing} was not found."
    raises("AccessDenied", iam.delete_policy, PolicyArn=SM_FULL)
    raises("AccessDenied", iam.create_policy_version, PolicyArn=SM_FULL, PolicyDocument=S3_READ)

    # The bootstrap admin has AdministratorAccess attached.
    attached = iam.list_policies(OnlyAttached=True)["Policies"]
    assert [(p["PolicyName"], p["AttachmentCount"]) for p in attached] == [("AdministratorAccess", 1)]


def test_customer_policy_versions(iam: IamClient) -> None:
    resp = iam.create_policy(PolicyName="data-read", Path="/team/", PolicyDocument=doc("s3:GetObject"))
    created = resp["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT}:policy/team/data-read"
    assert created["Arn"] == arn and created["DefaultVersionId"] == "v1"
    assert created["PolicyId"].startswith("ANPA") and created["AttachmentCount"] == 0
    assert [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]] == [arn]
    err = raises("EntityAlreadyExists", iam.create_policy, PolicyName="data-read", PolicyDocument=S3_READ)
    assert err.message == "A policy called data-read already exists. Duplicate names are not allowed."

    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("s3:PutObject"))["PolicyVersion"]
    assert v2 == {"VersionId": "v2", "IsDefaultVersion": False, "CreateDate": v2["CreateDate"]}
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("s3:ListBucket"), SetAsDefault=True)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("s3:DeleteObject"))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("s3:*"))
    err = raises("LimitExceeded", iam.create_policy_version, PolicyArn=arn, PolicyDocument=doc("s3:x"))
    assert err.message.startswith("A managed policy can have up to 5 versions.")

    listed = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in listed] == [
        ("v5", False),
        ("v4", False),
        ("v3", True),
        ("v2", False),
        ("v1", False),
    ]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    v3 = iam.get_policy_version(PolicyArn=arn, VersionId="v3")
    assert v3["PolicyVersion"]["Document"]["Statement"][0]["Action"] == "s3:ListBucket"
    assert unquote(iam.raw["PolicyVersion"]["Document"]) == doc("s3:ListBucket")

    err = raises("DeleteConflict", iam.delete_policy_version, PolicyArn=arn, VersionId="v3")
    assert err.message == "Cannot delete the default version of a policy."
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    raises("NoSuchEntity", iam.delete_policy_version, PolicyArn=arn, VersionId="v3")
    raises("NoSuchEntity", iam.set_default_policy_version, PolicyArn=arn, VersionId="v9")
    # Version numbers never repeat after a deletion.
    v6 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=S3_READ)["PolicyVersion"]
    assert v6["VersionId"] == "v6"

    err = raises("DeleteConflict", iam.delete_policy, PolicyArn=arn)
    assert err.message.startswith("This policy has more than one version.")
    for v in ("v1", "v2", "v4", "v6"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["r"]
    assert entities["PolicyUsers"] == [] and entities["PolicyGroups"] == []
    err = raises("DeleteConflict", iam.delete_policy, PolicyArn=arn)
    assert err.message == "Cannot delete a policy attached to entities."
    iam.detach_role_policy(RoleName="r", PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    raises("NoSuchEntity", iam.get_policy, PolicyArn=arn)


def test_policy_tags(iam: IamClient) -> None:
    resp = iam.create_policy(PolicyName="p", PolicyDocument=S3_READ, Tags=[{"Key": "a", "Value": "1"}])
    arn = resp["Policy"]["Arn"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "a", "Value": "1"}]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "This policy contains invalid Json"),
        ("[]", "Syntax errors in policy."),
        ('{"Version":"2012-10-17","Statement":"x"}', "Syntax errors in policy."),
        (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}',
            "Syntax errors in policy.",
        ),
        (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}',
            "Policy statement must contain actions.",
        ),
        (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}',
            "Policy statement must contain resources.",
        ),
        (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}',
            "Policy document should not specify a principal.",
        ),
        (  # the evaluation engine must be able to compile what is stored
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*",'
            '"Condition":{"StringEqualz":{"aws:username":"x"}}}]}',
            "Syntax errors in policy.",
        ),
    ],
)
def test_malformed_identity_documents(iam: IamClient, document: str, message: str) -> None:
    err = raises("MalformedPolicyDocument", iam.create_policy, PolicyName="bad", PolicyDocument=document)
    assert err.message == message and err.status == 400
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    err = raises(
        "MalformedPolicyDocument", iam.put_role_policy, RoleName="r", PolicyName="x", PolicyDocument=document
    )
    assert err.message == message


def test_policy_size_quotas(iam: IamClient) -> None:
    actions = [f"s3:Action{i:05d}" for i in range(400)]
    big = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    )
    err = raises("LimitExceeded", iam.create_policy, PolicyName="big", PolicyDocument=big)
    assert err.message == "Cannot exceed quota for PolicySize: 6144"
    iam.create_user(UserName="u")
    err = raises("LimitExceeded", iam.put_user_policy, UserName="u", PolicyName="big", PolicyDocument=big)
    assert err.message == "Cannot exceed quota for UserPolicySize: 2048"
