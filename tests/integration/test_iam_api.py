"""IAM through the real server with real boto3 and the real AWS CLI."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import AwsClients

TRUST_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
S3_READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
SM_FULL = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_role_lifecycle_with_boto3(aws: AwsClients) -> None:
    iam = aws.client("iam")
    name = unique("exec")
    account = aws.server.health()["account_id"]
    created = iam.create_role(
        RoleName=name, Path="/service-role/", AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER)
    )["Role"]
    assert created["Arn"] == f"arn:aws:iam::{account}:role/service-role/{name}"
    assert created["AssumeRolePolicyDocument"] == TRUST_SAGEMAKER  # botocore decoded the URL-encoded JSON

    role = iam.get_role(RoleName=name)["Role"]
    assert role["RoleId"] == created["RoleId"] and role["CreateDate"].tzinfo is not None
    assert role["AssumeRolePolicyDocument"] == TRUST_SAGEMAKER

    iam.attach_role_policy(RoleName=name, PolicyArn=SM_FULL)
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonSageMakerFullAccess", "PolicyArn": SM_FULL}]
    iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=json.dumps(S3_READ))
    assert iam.get_role_policy(RoleName=name, PolicyName="s3")["PolicyDocument"] == S3_READ
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["s3"]

    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_role(RoleName=name)
    assert error_of(exc)[0] == "DeleteConflict" and error_of(exc)[2] == 409

    iam.delete_role_policy(RoleName=name, PolicyName="s3")
    iam.detach_role_policy(RoleName=name, PolicyArn=SM_FULL)
    iam.delete_role(RoleName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.get_role(RoleName=name)
    assert error_of(exc) == ("NoSuchEntity", f"The role with name {name} cannot be found.", 404)


def test_list_roles_paginator(aws: AwsClients) -> None:
    iam = aws.client("iam")
    prefix = f"/{unique('page')}/"
    names = sorted(unique("r") for _ in range(5))
    for n in names:
        iam.create_role(RoleName=n, Path=prefix, AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER))
    pages = iam.get_paginator("list_roles").paginate(PathPrefix=prefix, PaginationConfig={"PageSize": 2})
    seen = [r["RoleName"] for p in pages for r in p["Roles"]]
    assert seen == names
    for n in names:
        iam.delete_role(RoleName=n)


def test_list_users_pages_in_byte_order_whatever_the_database_collation(aws: AwsClients) -> None:
    """Names a language collation orders differently (punctuation: `a-1` < `a.1` < `a_1` < `ab` in
    byte order) come one page at a time, each once, in byte order, on every store backend."""
    iam = aws.client("iam")
    prefix = f"/{unique('collate')}/"
    names = sorted(f"{base}-{uuid.uuid4().hex[:6]}" for base in ("a_1", "a-1", "a.1", "ab", "a-c", "A+1"))
    for n in names:
        iam.create_user(UserName=n, Path=prefix)
    pages = iam.get_paginator("list_users").paginate(PathPrefix=prefix, PaginationConfig={"PageSize": 1})
    seen = [u["UserName"] for p in pages for u in p["Users"]]
    assert seen == sorted(names, key=str.lower)
    for n in names:
        iam.delete_user(UserName=n)


def test_errors_with_boto3(aws: AwsClients) -> None:
    iam = aws.client("iam")
    name = unique("dup")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER))
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as exc:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER))
    assert error_of(exc) == ("EntityAlreadyExists", f"Role with name {name} already exists.", 409)
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as exc:
        iam.create_role(RoleName=unique("bad"), AssumeRolePolicyDocument="trust.json")
    assert error_of(exc) == ("MalformedPolicyDocument", "This policy contains invalid Json", 400)
    missing = "arn:aws:iam::aws:policy/NoSuchManagedPolicy"
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.attach_role_policy(RoleName=name, PolicyArn=missing)
    assert error_of(exc)[1] == f"Policy {missing} does not exist or is not attachable."
    iam.delete_role(RoleName=name)


def test_users_keys_and_managed_policies(aws: AwsClients) -> None:
    iam = aws.client("iam")
    assert iam.get_user()["User"]["UserName"] == "admin"
    user = unique("user")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.create_access_key(UserName=user)
    with pytest.raises(iam.exceptions.LimitExceededException) as exc:
        iam.create_access_key(UserName=user)
    assert error_of(exc)[1] == "Cannot exceed quota for AccessKeysPerUser: 2"

    # The new key authenticates as the new user.
    as_user = aws.as_credentials(key["AccessKeyId"], key["SecretAccessKey"])
    assert as_user.client("sts").get_caller_identity()["Arn"].endswith(f":user/{user}")

    version = iam.get_policy_version(PolicyArn=SM_FULL, VersionId="v29")["PolicyVersion"]
    assert version["IsDefaultVersion"] is True and isinstance(version["Document"], dict)
    aws_names = [p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]]
    assert "AdministratorAccess" in aws_names and "AmazonS3ReadOnlyAccess" in aws_names

    arn = iam.create_policy(PolicyName=unique("p"), PolicyDocument=json.dumps(S3_READ))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(S3_READ), SetAsDefault=True)
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v2", "v1"]
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy(PolicyArn=arn)


def test_aws_cli_create_attach_get_role(aws: AwsClients, tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(TRUST_SAGEMAKER, indent=2))
    name = unique("cli")
    created = aws.cli_json(
        "iam",
        "create-role",
        "--role-name",
        name,
        "--path",
        "/service-role/",
        "--assume-role-policy-document",
        f"file://{trust}",
    )
    assert created["Role"]["RoleName"] == name
    aws.cli("iam", "attach-role-policy", "--role-name", name, "--policy-arn", SM_FULL)
    role = aws.cli_json("iam", "get-role", "--role-name", name)["Role"]
    assert role["Arn"].endswith(f":role/service-role/{name}")
    assert role["AssumeRolePolicyDocument"] == TRUST_SAGEMAKER
    attached = aws.cli_json("iam", "list-attached-role-policies", "--role-name", name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonSageMakerFullAccess", "PolicyArn": SM_FULL}]

    refused = aws.cli("iam", "delete-role", "--role-name", name, check=False)
    assert refused.returncode != 0 and "(DeleteConflict)" in refused.stderr
    aws.cli("iam", "detach-role-policy", "--role-name", name, "--policy-arn", SM_FULL)
    aws.cli("iam", "delete-role", "--role-name", name)
    gone = aws.cli("iam", "get-role", "--role-name", name, check=False)
    assert gone.returncode != 0 and "(NoSuchEntity)" in gone.stderr
