"""IAM roles through the provider: round trip, trust policies, paging, attachments, inline policies."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.unit.iam_helpers import ACCOUNT, S3_READ, TRUST_SAGEMAKER, IamClient, make_client, raises

SM_FULL = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


@pytest.fixture
def iam(tmp_path: Path) -> IamClient:
    return make_client(tmp_path)


def test_role_round_trip(iam: IamClient) -> None:
    created = iam.create_role(
        RoleName="SageMakerExecution",
        Path="/service-role/",
        AssumeRolePolicyDocument=TRUST_SAGEMAKER,
        Description="runs training jobs",
        Tags=[{"Key": "team", "Value": "ml"}],
    )["Role"]
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/SageMakerExecution"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["Path"] == "/service-role/"
    # On the wire the trust policy is URL-encoded JSON; boto3 hands back a dict.
    assert unquote(iam.raw["Role"]["AssumeRolePolicyDocument"]) == TRUST_SAGEMAKER
    assert created["AssumeRolePolicyDocument"] == json.loads(TRUST_SAGEMAKER)
    assert created["MaxSessionDuration"] == 3600

    got = iam.get_role(RoleName="SageMakerExecution")["Role"]
    assert got["RoleId"] == created["RoleId"]
    assert got["Description"] == "runs training jobs"
    assert got["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"
    }
    # Names compare regardless of case.
    assert iam.get_role(RoleName="sagemakerexecution")["Role"]["RoleName"] == "SageMakerExecution"

    iam.update_role(RoleName="SageMakerExecution", Description="new", MaxSessionDuration=7200)
    got = iam.get_role(RoleName="SageMakerExecution")["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("new", 7200)

    iam.delete_role(RoleName="SageMakerExecution")
    err = raises("NoSuchEntity", iam.get_role, RoleName="SageMakerExecution")
    assert err.message == "The role with name SageMakerExecution cannot be found."
    assert err.status == 404


def test_duplicate_role(iam: IamClient) -> None:
    iam.create_role(RoleName="r1", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    err = raises(
        "EntityAlreadyExists", iam.create_role, RoleName="R1", AssumeRolePolicyDocument=TRUST_SAGEMAKER
    )
    assert err.message == "Role with name R1 already exists."
    assert err.status == 409


def test_list_roles_path_prefix_and_paging(iam: IamClient) -> None:
    for i in range(5):
        iam.create_role(RoleName=f"svc-{i}", Path="/service-role/", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    iam.create_role(RoleName="plain", AssumeRolePolicyDocument=TRUST_SAGEMAKER)

    everything = iam.list_roles()
    assert [r["RoleName"] for r in everything["Roles"]] == ["plain"] + [f"svc-{i}" for i in range(5)]
    assert everything["IsTruncated"] is False and "Marker" not in everything
    assert "Tags" not in everything["Roles"][0] and "RoleLastUsed" not in everything["Roles"][0]

    names: list[str] = []
    first = iam.list_roles(PathPrefix="/service-role/", MaxItems=2)
    assert first["IsTruncated"] is True
    names += [r["RoleName"] for r in first["Roles"]]
    marker = first["Marker"]
    while marker:
        nxt = iam.list_roles(PathPrefix="/service-role/", MaxItems=2, Marker=marker)
        names += [r["RoleName"] for r in nxt["Roles"]]
        marker = nxt.get("Marker")
    assert names == [f"svc-{i}" for i in range(5)]
    assert iam.list_roles(PathPrefix="/nothing/")["Roles"] == []


def test_attach_detach_and_delete_conflict(iam: IamClient) -> None:
    iam.create_role(RoleName="exec", Path="/service-role/", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    iam.attach_role_policy(RoleName="exec", PolicyArn=SM_FULL)
    iam.attach_role_policy(RoleName="exec", PolicyArn=SM_FULL)  # idempotent
    attached = iam.list_attached_role_policies(RoleName="exec")
    assert attached["AttachedPolicies"] == [{"PolicyName": "AmazonSageMakerFullAccess", "PolicyArn": SM_FULL}]
    assert iam.get_policy(PolicyArn=SM_FULL)["Policy"]["AttachmentCount"] == 1

    err = raises("DeleteConflict", iam.delete_role, RoleName="exec")
    assert err.message == "Cannot delete entity, must detach all policies first."
    assert err.status == 409

    iam.detach_role_policy(RoleName="exec", PolicyArn=SM_FULL)
    assert iam.list_attached_role_policies(RoleName="exec")["AttachedPolicies"] == []
    err = raises("NoSuchEntity", iam.detach_role_policy, RoleName="exec", PolicyArn=SM_FULL)
    assert err.message == f"Policy {SM_FULL} was not found."
    iam.delete_role(RoleName="exec")


def test_attach_errors_and_quota(iam: IamClient) -> None:
    missing = "arn:aws:iam::aws:policy/NoSuchPolicy"
    err = raises("NoSuchEntity", iam.attach_role_policy, RoleName="ghost", PolicyArn=SM_FULL)
    assert err.message == "The role with name ghost cannot be found."
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    err = raises("NoSuchEntity", iam.attach_role_policy, RoleName="r", PolicyArn=missing)
    assert err.message == f"Policy {missing} does not exist or is not attachable."

    for i in range(10):
        arn = iam.create_policy(PolicyName=f"p{i}", PolicyDocument=S3_READ)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    err = raises("LimitExceeded", iam.attach_role_policy, RoleName="r", PolicyArn=SM_FULL)
    assert err.message == "Cannot exceed quota for PoliciesPerRole: 10"


def test_inline_role_policies(iam: IamClient) -> None:
    iam.create_role(RoleName="exec", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    iam.put_role_policy(RoleName="exec", PolicyName="s3", PolicyDocument=S3_READ)
    iam.put_role_policy(RoleName="exec", PolicyName="a-first", PolicyDocument=S3_READ)
    assert iam.list_role_policies(RoleName="exec")["PolicyNames"] == ["a-first", "s3"]

    got = iam.get_role_policy(RoleName="exec", PolicyName="s3")
    assert got["RoleName"] == "exec" and got["PolicyName"] == "s3"
    assert got["PolicyDocument"] == json.loads(S3_READ)
    assert unquote(iam.raw["PolicyDocument"]) == S3_READ  # URL-encoded on the wire

    replaced = '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}'
    iam.put_role_policy(RoleName="exec", PolicyName="s3", PolicyDocument=replaced)
    got = iam.get_role_policy(RoleName="exec", PolicyName="s3")
    assert got["PolicyDocument"]["Statement"]["Effect"] == "Deny"

    err = raises("DeleteConflict", iam.delete_role, RoleName="exec")
    assert err.message == "Cannot delete entity, must delete policies first."
    iam.delete_role_policy(RoleName="exec", PolicyName="s3")
    iam.delete_role_policy(RoleName="exec", PolicyName="a-first")
    err = raises("NoSuchEntity", iam.get_role_policy, RoleName="exec", PolicyName="s3")
    assert err.message == "The role policy with name s3 cannot be found."
    raises("NoSuchEntity", iam.delete_role_policy, RoleName="exec", PolicyName="s3")
    assert iam.list_role_policies(RoleName="exec")["PolicyNames"] == []
    iam.delete_role(RoleName="exec")


def test_trust_policy_validation(iam: IamClient) -> None:
    cases = {
        "not json": "This policy contains invalid Json",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",}]}': "This policy contains invalid Json",
        '{"Version":"2012-10-17"}': "Syntax errors in policy.",
        "null": "Syntax errors in policy.",
        '{"Version":"2012-10-18","Statement":[]}': "The policy failed legacy parsing",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"x"},'
        '"Action":"sts:AssumeRole","Resource":"*"}]}': "Has prohibited field Resource",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}': (
            "Missing required field Principal"
        ),
    }
    for doc, message in cases.items():
        err = raises("MalformedPolicyDocument", iam.create_role, RoleName="r", AssumeRolePolicyDocument=doc)
        assert err.message == message, doc
        assert err.status == 400
    assert iam.list_roles()["Roles"] == []

    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    raises("MalformedPolicyDocument", iam.update_assume_role_policy, RoleName="r", PolicyDocument="{")
    ec2 = TRUST_SAGEMAKER.replace("sagemaker", "ec2")
    iam.update_assume_role_policy(RoleName="r", PolicyDocument=ec2)
    principal = iam.get_role(RoleName="r")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "ec2.amazonaws.com"}


def test_role_tags_and_instance_profiles(iam: IamClient) -> None:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    iam.tag_role(RoleName="r", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_role(RoleName="r", Tags=[{"Key": "A", "Value": "3"}])  # keys are case-insensitive
    assert iam.list_role_tags(RoleName="r")["Tags"] == [
        {"Key": "A", "Value": "3"},
        {"Key": "b", "Value": "2"},
    ]
    iam.untag_role(RoleName="r", TagKeys=["a"])
    assert iam.list_role_tags(RoleName="r")["Tags"] == [{"Key": "b", "Value": "2"}]
    raises(
        "InvalidInput",
        iam.tag_role,
        RoleName="r",
        Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}],
    )
    assert iam.list_instance_profiles_for_role(RoleName="r") == {"InstanceProfiles": [], "IsTruncated": False}
    raises("NoSuchEntity", iam.list_instance_profiles_for_role, RoleName="ghost")
