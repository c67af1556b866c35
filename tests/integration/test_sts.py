"""STS through the real server with real boto3 and the real AWS CLI."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import AwsClients

TRUST_SAGEMAKER = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def _trust_sagemaker_and(account: str) -> str:
    """SageMaker's trust, plus this account's principals (allowed sts:AssumeRole by their policies)."""
    doc = json.loads(TRUST_SAGEMAKER)
    doc["Statement"][0]["Principal"]["AWS"] = f"arn:aws:iam::{account}:root"
    return json.dumps(doc)


@pytest.fixture(scope="module")
def role_arn(aws: AwsClients) -> str:
    iam = aws.client("iam")
    account = aws.server.health()["account_id"]
    role = iam.create_role(
        RoleName="StsTestRole",
        AssumeRolePolicyDocument=_trust_sagemaker_and(str(account)),
        Path="/service-role/",
    )
    return role["Role"]["Arn"]


def test_a_role_only_sagemaker_may_assume_refuses_the_administrator(aws: AwsClients) -> None:
    """The trust policy is the role's resource policy: even AdministratorAccess cannot assume a role
    whose trust names only sagemaker.amazonaws.com (as on AWS)."""
    role = aws.client("iam").create_role(RoleName="OnlySageMaker", AssumeRolePolicyDocument=TRUST_SAGEMAKER)
    arn = role["Role"]["Arn"]
    with pytest.raises(ClientError) as err:
        aws.client("sts").assume_role(RoleArn=arn, RoleSessionName="admin")
    account = aws.server.health()["account_id"]
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert err.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{account}:user/admin is not authorized to perform: sts:AssumeRole on resource: "
        f"{arn} because no resource-based policy allows the sts:AssumeRole action"
    )


def test_get_caller_identity_is_the_admin(aws: AwsClients) -> None:
    ident = aws.client("sts").get_caller_identity()
    account = aws.server.health()["account_id"]
    assert ident["Account"] == account
    assert ident["Arn"] == f"arn:aws:iam::{account}:user/admin"
    assert ident["UserId"].startswith("AIDA")


def test_aws_cli_get_caller_identity(aws: AwsClients) -> None:
    out = aws.cli_json("sts", "get-caller-identity")
    assert out["Arn"].endswith(":user/admin")
    assert len(out["Account"]) == 12 and out["Account"].isdigit()


def test_assume_role_then_call_with_temporary_credentials(aws: AwsClients, role_arn: str) -> None:
    resp = aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="SageMaker", DurationSeconds=900)
    creds = resp["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    account = aws.server.health()["account_id"]
    expected_arn = f"arn:aws:sts::{account}:assumed-role/StsTestRole/SageMaker"
    assert resp["AssumedRoleUser"]["Arn"] == expected_arn
    as_role = aws.as_credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    ident = as_role.client("sts").get_caller_identity()
    assert ident["Arn"] == expected_arn
    assert ident["UserId"] == resp["AssumedRoleUser"]["AssumedRoleId"]
    assert ident["UserId"].startswith("AROA") and ident["UserId"].endswith(":SageMaker")
    # and the AWS CLI with the same temporary credentials
    assert as_role.cli_json("sts", "get-caller-identity")["Arn"] == expected_arn


def test_temporary_credentials_need_their_session_token(aws: AwsClients, role_arn: str) -> None:
    creds = aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="ss")["Credentials"]
    no_token = aws.as_credentials(creds["AccessKeyId"], creds["SecretAccessKey"])
    with pytest.raises(ClientError) as err:
        no_token.client("sts").get_caller_identity()
    assert err.value.response["Error"]["Code"] == "InvalidClientTokenId"
    forged = aws.as_credentials(
        creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"][:-4] + "AAAA"
    )
    with pytest.raises(ClientError) as err:
        forged.client("sts").get_caller_identity()
    assert err.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_aws_cli_assume_role(aws: AwsClients, role_arn: str) -> None:
    out = aws.cli_json("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "cli")
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/StsTestRole/cli")
    assert out["Credentials"]["SessionToken"]


def test_assume_missing_role_is_denied(aws: AwsClients) -> None:
    account = aws.server.health()["account_id"]
    arn = f"arn:aws:iam::{account}:role/NoSuchRole"
    with pytest.raises(ClientError) as err:
        aws.client("sts").assume_role(RoleArn=arn, RoleSessionName="xx")
    e = err.value.response["Error"]
    assert e["Code"] == "AccessDenied"
    assert (
        e["Message"]
        == f"User: arn:aws:iam::{account}:user/admin is not authorized to perform: sts:AssumeRole on resource: {arn}"
    )
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_duration_beyond_role_maximum_is_refused(aws: AwsClients, role_arn: str) -> None:
    with pytest.raises(ClientError) as err:
        aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="xx", DurationSeconds=7200)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "MaxSessionDuration" in err.value.response["Error"]["Message"]


def test_get_session_token(aws: AwsClients) -> None:
    creds = aws.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    session = aws.as_credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert session.client("sts").get_caller_identity()["Arn"].endswith(":user/admin")
    with pytest.raises(ClientError) as err:
        session.client("sts").get_session_token()
    assert err.value.response["Error"]["Code"] == "AccessDenied"
