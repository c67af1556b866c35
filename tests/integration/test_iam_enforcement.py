"""IAM enforcement end to end: a role holding AmazonSageMakerFullAccess meets the workflow's five
S3 rules through boto3 with its temporary credentials, on a server started with enforcement on.

For each rule an allowed case and a near-miss denied one; a denial is S3's AccessDenied (403)
with AWS's message naming the principal, the action, the resource and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sagelocal.launcher import ServerProcess
from tests.conftest import AwsClients

SAGEMAKER_FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


@pytest.fixture(scope="module")
def enforced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsClients]:
    root = tmp_path_factory.mktemp("enforced")
    env = dict(os.environ) | {"SAGELOCAL_IAM_ENFORCEMENT": "on"}
    with (root / "server.log").open("w") as log, ServerProcess(root / "home", env=env, log=log) as srv:
        yield AwsClients(srv)


@pytest.fixture(scope="module")
def world(enforced: AwsClients) -> dict[str, Any]:
    """As the administrator: the role, the buckets and objects of the five rules; then the role's
    temporary credentials (AssumeRole, as a notebook instance's kernel would hold them)."""
    iam, s3 = enforced.client("iam"), enforced.client("s3")
    account = enforced.client("sts").get_caller_identity()["Account"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com", "AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="NotebookRole", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="NotebookRole", PolicyArn=SAGEMAKER_FULL_ACCESS)
    named = {  # the console's "specific S3 buckets" choice: an extra policy naming the bucket
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::named-bucket/*",
            }
        ],
    }
    iam.put_role_policy(RoleName="NotebookRole", PolicyName="NamedBucket", PolicyDocument=json.dumps(named))
    region = enforced.server.region
    for bucket in (
        "my-sagemaker-s3-bucket",
        "my-s3-bucket",
        "granted-bucket",
        "named-bucket",
        "unnamed-bucket",
    ):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_object(Bucket=bucket, Key="data.csv", Body=b"1,2,3\n")
    s3.put_object(Bucket="my-s3-bucket", Key="my-sagemaker-object.csv", Body=b"1\n")
    s3.put_object(Bucket="my-s3-bucket", Key="tagged.csv", Body=b"1\n", Tagging="SageMaker=true")
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": role},
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::granted-bucket/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket="granted-bucket", Policy=json.dumps(grant))
    creds = enforced.client("sts").assume_role(RoleArn=role, RoleSessionName="SageMaker")["Credentials"]
    as_role = enforced.as_credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    return {
        "role": role,
        "account": account,
        "as_role": as_role,
        "s3": as_role.client("s3"),
        "session": f"arn:aws:sts::{account}:assumed-role/NotebookRole/SageMaker",
    }


def _get(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _put(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=b"written by the role\n")


CASES = [
    # rule 1: buckets whose names contain sagemaker
    ("bucket named *sagemaker*: PutObject", "put", "my-sagemaker-s3-bucket", "new.csv", True),
    ("bucket named *sagemaker*: GetObject", "get", "my-sagemaker-s3-bucket", "data.csv", True),
    ("near miss my-s3-bucket: PutObject", "put", "my-s3-bucket", "new.csv", False),
    ("near miss my-s3-bucket: GetObject", "get", "my-s3-bucket", "data.csv", False),
    # rule 2: objects whose keys contain sagemaker, in any bucket
    ("object named *sagemaker*: GetObject", "get", "my-s3-bucket", "my-sagemaker-object.csv", True),
    ("object named *sagemaker*: PutObject", "put", "unnamed-bucket", "my-sagemaker-object.csv", True),
    # rule 3: objects tagged SageMaker=true may be read, not written
    ("tagged SageMaker=true: GetObject", "get", "my-s3-bucket", "tagged.csv", True),
    ("tagged SageMaker=true: PutObject", "put", "my-s3-bucket", "tagged.csv", False),
    # rule 4: a bucket whose policy grants the role
    ("bucket policy grants the role: GetObject", "get", "granted-bucket", "data.csv", True),
    ("bucket policy grants the role: PutObject", "put", "granted-bucket", "new.csv", True),
    # rule 5: a bucket named in a policy the user attached
    ("named in the role's policy: GetObject", "get", "named-bucket", "data.csv", True),
    ("not named anywhere: GetObject", "get", "unnamed-bucket", "data.csv", False),
]


@pytest.mark.parametrize(("case", "op", "bucket", "key", "allowed"), CASES, ids=[c[0] for c in CASES])
def test_sagemaker_full_access_s3_rules(
    world: dict[str, Any], case: str, op: str, bucket: str, key: str, allowed: bool
) -> None:
    s3 = world["s3"]
    call = (lambda: _get(s3, bucket, key)) if op == "get" else (lambda: _put(s3, bucket, key))
    if allowed:
        call()
        return
    with pytest.raises(ClientError) as exc:
        call()
    err = exc.value.response["Error"]
    action = "s3:GetObject" if op == "get" else "s3:PutObject"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403 and err["Code"] == "AccessDenied"
    assert err["Message"] == (
        f"User: {world['session']} is not authorized to perform: {action} on resource: "
        f'"arn:aws:s3:::{bucket}/{key}" because no identity-based policy allows the {action} action'
    )


def test_bucket_actions_and_admin(world: dict[str, Any], enforced: AwsClients) -> None:
    s3 = world["s3"]
    s3.create_bucket(
        Bucket="role-made-bucket", CreateBucketConfiguration={"LocationConstraint": enforced.server.region}
    )  # CreateBucket and ListAllMyBuckets are allowed on any resource
    assert "role-made-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="role-made-bucket")  # DeleteBucket is not in the policy
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    enforced.client("s3").delete_bucket(Bucket="role-made-bucket")  # the administrator may


def test_sagemaker_and_iam_denials_use_their_protocols_errors(
    world: dict[str, Any], enforced: AwsClients
) -> None:
    as_role = world["as_role"]
    with pytest.raises(ClientError) as exc:
        as_role.client("iam").create_user(UserName="not-allowed")
    err = exc.value.response["Error"]
    assert err["Code"] == "AccessDenied" and exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["Message"] == (
        f"User: {world['session']} is not authorized to perform: iam:CreateUser on resource: "
        f"arn:aws:iam::{world['account']}:user/not-allowed because no identity-based policy allows the "
        "iam:CreateUser action"
    )
    # AmazonSageMakerFullAccess allows sagemaker:* : a List call goes through
    assert "TrainingJobSummaries" in as_role.client("sagemaker").list_training_jobs()


def test_enforcement_is_on_by_default_and_can_be_turned_off(aws: AwsClients, tmp_path: Path) -> None:
    """The shared test server (default settings) denies a role without policies; a server started
    with SAGELOCAL_IAM_ENFORCEMENT=off only authenticates."""

    def role_lists_buckets(clients: AwsClients) -> Any:
        iam = clients.client("iam")
        account = clients.client("sts").get_caller_identity()["Account"]
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole"}],
        }
        role = iam.create_role(RoleName="NoPolicyRole", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        creds = clients.client("sts").assume_role(RoleArn=role, RoleSessionName="plain-session")[
            "Credentials"
        ]
        as_role = clients.as_credentials(
            creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        return as_role.client("s3").list_buckets()

    with pytest.raises(ClientError) as exc:
        role_lists_buckets(aws)
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    env = dict(os.environ) | {"SAGELOCAL_IAM_ENFORCEMENT": "off"}
    with ServerProcess(tmp_path / "home", env=env, log=(tmp_path / "s.log").open("w")) as srv:
        assert "Buckets" in role_lists_buckets(AwsClients(srv))


def test_simulate_principal_and_custom_policy(aws: AwsClients) -> None:
    """The SDK v3's role check: SimulatePrincipalPolicy answers from the same engine."""
    iam = aws.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(
        RoleName="SimulatedRole", Path="/service-role/", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    iam.attach_role_policy(RoleName="SimulatedRole", PolicyArn=SAGEMAKER_FULL_ACCESS)
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="SimulatedRole", PolicyName="NoDeletes", PolicyDocument=json.dumps(deny))
    smoke = ["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", "ec2:DescribeVpcs"]
    pages = iam.get_paginator("simulate_principal_policy").paginate(PolicySourceArn=role, ActionNames=smoke)
    results = [r for page in pages for r in page["EvaluationResults"]]
    assert {r["EvalActionName"]: r["EvalDecision"] for r in results} == dict.fromkeys(smoke, "allowed")
    assert all(r["MatchedStatements"] for r in results)

    checks = iam.simulate_principal_policy(
        PolicySourceArn=role,
        ActionNames=["s3:GetObject", "s3:DeleteObject"],
        ResourceArns=["arn:aws:s3:::my-sagemaker-bucket/a.csv", "arn:aws:s3:::my-bucket/a.csv"],
    )["EvaluationResults"]
    decisions = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in checks}
    assert decisions == {
        ("s3:GetObject", "arn:aws:s3:::my-sagemaker-bucket/a.csv"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::my-bucket/a.csv"): "implicitDeny",
        ("s3:DeleteObject", "arn:aws:s3:::my-sagemaker-bucket/a.csv"): "explicitDeny",
        ("s3:DeleteObject", "arn:aws:s3:::my-bucket/a.csv"): "explicitDeny",
    }
    custom = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(deny)], ActionNames=["s3:DeleteObject", "s3:GetObject"]
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in custom] == ["explicitDeny", "implicitDeny"]
    with pytest.raises(ClientError) as exc:
        iam.simulate_principal_policy(
            PolicySourceArn=role.replace("SimulatedRole", "NoSuchRole"), ActionNames=["s3:GetObject"]
        )
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"


IMAGE = "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def _training_job(name: str, role: str, bucket: str) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": role,
        "HyperParameters": {"objective": "binary:logistic", "num_round": "3"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/train/"}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://my-sagemaker-s3-bucket/output/{name}"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def test_training_job_runs_as_its_role(world: dict[str, Any], enforced: AwsClients) -> None:
    """The job's own S3 reads are authorized as assumed-role/<role>/SageMaker: a channel in a bucket
    the role may not read fails the job with AWS's ClientError; in a sagemaker bucket it trains."""
    admin_s3, sm = enforced.client("s3"), enforced.client("sagemaker")
    rows = b"".join(f"{i % 2},{i},{i * 2}\n".encode() for i in range(60))
    for bucket in ("my-sagemaker-s3-bucket", "my-s3-bucket"):
        admin_s3.put_object(Bucket=bucket, Key="train/data.csv", Body=rows)
    waiter = sm.get_waiter("training_job_completed_or_stopped")
    sm.create_training_job(**_training_job("denied-channel", world["role"], "my-s3-bucket"))
    with pytest.raises(Exception, match="Failed"):
        waiter.wait(TrainingJobName="denied-channel", WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    reason = sm.describe_training_job(TrainingJobName="denied-channel")["FailureReason"]
    assert reason == (
        "ClientError: Data download failed:Unable to download object s3://my-s3-bucket/train/data.csv "
        "(AccessDenied: Access Denied)"
    )
    sm.create_training_job(**_training_job("allowed-channel", world["role"], "my-sagemaker-s3-bucket"))
    waiter.wait(TrainingJobName="allowed-channel", WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    desc = sm.describe_training_job(TrainingJobName="allowed-channel")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")


def test_pass_role_is_required(world: dict[str, Any], enforced: AwsClients) -> None:
    """A caller allowed sagemaker:* but not iam:PassRole cannot hand a role to a training job."""
    iam = enforced.client("iam")
    iam.create_user(UserName="no-passrole")
    only_sagemaker = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}],
    }
    iam.put_user_policy(
        UserName="no-passrole", PolicyName="SageMakerOnly", PolicyDocument=json.dumps(only_sagemaker)
    )
    key = iam.create_access_key(UserName="no-passrole")["AccessKey"]
    user = enforced.as_credentials(key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        user.client("sagemaker").create_training_job(**_training_job("passrole-job", world["role"], "x"))
    err = exc.value.response["Error"]
    assert err["Code"] == "AccessDeniedException"
    assert err["Message"] == (
        f"User: arn:aws:iam::{world['account']}:user/no-passrole is not authorized to perform: iam:PassRole "
        f"on resource: {world['role']} because no identity-based policy allows the iam:PassRole action"
    )


def test_iam_explain_names_the_deciding_statement(world: dict[str, Any], enforced: AwsClients) -> None:
    def explain(resource: str, action: str = "s3:GetObject") -> subprocess.CompletedProcess[str]:
        args = ["--principal", world["role"], "--action", action, "--resource", resource]
        home = ["--home", str(enforced.server.home)]
        return subprocess.run(
            [sys.executable, "-m", "sagelocal", "iam", "explain", *home, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "200"},
        )

    allowed = explain("arn:aws:s3:::my-sagemaker-s3-bucket/data.csv")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "ALLOWED" in allowed.stdout
    assert "Allow AllowS3ObjectActions in arn:aws:iam::aws:policy/AmazonSageMakerFullAccess" in allowed.stdout
    denied = explain("arn:aws:s3:::my-s3-bucket/data.csv")
    assert denied.returncode == 1 and "DENIED (no policy allows it)" in denied.stdout
    assert "because no identity-based policy allows the s3:GetObject action" in denied.stdout
    granted = explain("arn:aws:s3:::granted-bucket/data.csv")
    assert granted.returncode == 0 and "bucket policy of granted-bucket" in granted.stdout
