"""Requests that break the model get the protocol's error with AWS's message, and change nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import AwsClients

TRUST = json.dumps(
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


def _roles(aws: AwsClients) -> list[str]:
    return sorted(r["RoleName"] for r in aws.client("iam").list_roles()["Roles"])


def _groups(aws: AwsClients) -> list[str]:
    return sorted(g["logGroupName"] for g in aws.client("logs").describe_log_groups()["logGroups"])


def _error(call, *args, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    return {**err.value.response["Error"], "status": err.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def _signed(aws: AwsClients, service: str, body: bytes | str, headers: dict[str, str]) -> tuple[int, bytes]:
    creds = Credentials(aws.creds["aws_access_key_id"], aws.creds["aws_secret_access_key"])
    req = AWSRequest("POST", aws.server.endpoint_url + "/", data=body, headers=headers)
    SigV4Auth(creds, service, aws.server.region).add_auth(req)
    p = req.prepare()
    data = p.body.encode() if isinstance(p.body, str) else p.body
    raw = urllib.request.Request(p.url, data=data, method="POST", headers=dict(p.headers.items()))
    try:
        with urllib.request.urlopen(raw, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_pattern_violation_query_protocol(aws: AwsClients) -> None:
    before = _roles(aws)
    e = _error(aws.client("iam").create_role, RoleName="bad name!", AssumeRolePolicyDocument=TRUST)
    assert (e["Code"], e["status"]) == ("ValidationError", 400)
    assert e["Message"] == (
        "1 validation error detected: Value 'bad name!' at 'roleName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )
    assert _roles(aws) == before


def test_length_and_several_violations(aws: AwsClients) -> None:
    before = _roles(aws)
    name = "r" * 65
    e = _error(aws.client("iam").create_role, RoleName=name, AssumeRolePolicyDocument=TRUST, Path="nopath")
    assert e["Message"].startswith("2 validation errors detected: ")
    assert (
        f"Value '{name}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64"
        in e["Message"]
    )
    assert (
        "at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern"
        in e["Message"]
    )
    assert _roles(aws) == before


def test_value_out_of_range(aws: AwsClients) -> None:
    e = _error(aws.client("iam").list_roles, MaxItems=1001)
    assert e["Code"] == "ValidationError"
    assert e["Message"] == (
        "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000"
    )


def test_missing_member_reaches_the_server_and_is_refused(aws: AwsClients) -> None:
    iam = aws.client("iam", config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    before = _roles(aws)
    e = _error(iam.create_role, RoleName="NoTrust")
    assert e["Code"] == "ValidationError"
    assert e["Message"] == (
        "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: "
        "Member must not be null"
    )
    assert _roles(aws) == before


def test_json_protocol_pattern_violation(aws: AwsClients) -> None:
    before = _groups(aws)
    e = _error(aws.client("logs").create_log_group, logGroupName="bad group name!")
    assert (e["Code"], e["status"]) == ("InvalidParameterException", 400)
    assert e["Message"].startswith(
        "1 validation error detected: Value 'bad group name!' at 'logGroupName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: "
    )
    assert _groups(aws) == before


def test_malformed_json_body(aws: AwsClients) -> None:
    before = _groups(aws)
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.CreateLogGroup"}
    status, body = _signed(aws, "logs", b'{"logGroupName": "half', headers)
    assert status == 400
    assert json.loads(body)["__type"].endswith("SerializationException")
    assert _groups(aws) == before


def test_unknown_operations(aws: AwsClients) -> None:
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.NoSuchThing"}
    status, body = _signed(aws, "logs", b"{}", headers)
    assert status == 400 and json.loads(body)["__type"].endswith("UnknownOperationException")
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    status, body = _signed(aws, "iam", "Action=NoSuchThing&Version=2010-05-08", form)
    assert status == 400 and b"<Code>InvalidAction</Code>" in body


def test_wrongly_typed_form_value(aws: AwsClients) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    status, body = _signed(aws, "iam", "Action=ListRoles&Version=2010-05-08&MaxItems=many", form)
    assert status == 400 and b"<ErrorResponse" in body


def test_unimplemented_operation_names_itself(aws: AwsClients) -> None:
    e = _error(aws.client("sagemaker").list_domains)
    assert (e["Code"], e["status"]) == ("NotImplemented", 501)
    assert "ListDomains" in e["Message"]
