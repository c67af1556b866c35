"""The query codec (iam, sts): botocore's serializer writes the requests, its parser reads our responses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sagelocal.services.base import ServiceError
from tests.unit.codec_helpers import (
    codec,
    error_roundtrip,
    op,
    raw_request,
    roundtrip_request,
    roundtrip_response,
)

T = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
TRUST = '{"Version":"2012-10-17","Statement":[]}'


def test_iam_create_role_request_with_tags() -> None:
    params = {
        "RoleName": "SageMakerRole",
        "Path": "/service-role/",
        "AssumeRolePolicyDocument": TRUST,
        "MaxSessionDuration": 7200,
        "Tags": [{"Key": "team", "Value": "ml"}, {"Key": "empty", "Value": ""}],
    }
    assert roundtrip_request("iam", "CreateRole", params) == params


def test_iam_create_role_response() -> None:
    role = {
        "Path": "/",
        "RoleName": "r1",
        "RoleId": "AROAEXAMPLE",
        "Arn": "arn:aws:iam::123456789012:role/r1",
        "CreateDate": T,
        "AssumeRolePolicyDocument": "%7B%7D",
        "MaxSessionDuration": 3600,
        "Tags": [{"Key": "a", "Value": "b & <c>"}],
    }
    assert roundtrip_response("iam", "CreateRole", {"Role": role}) == {"Role": role}


def test_iam_list_roles_request_and_paged_response() -> None:
    params = {"PathPrefix": "/", "Marker": "abc", "MaxItems": 2}
    assert roundtrip_request("iam", "ListRoles", params) == params
    roles = [
        {
            "Path": "/",
            "RoleName": f"r{i}",
            "RoleId": f"ID{i}",
            "Arn": f"arn:aws:iam::1:role/r{i}",
            "CreateDate": T,
        }
        for i in range(2)
    ]
    result = {"Roles": roles, "IsTruncated": True, "Marker": "next"}
    assert roundtrip_response("iam", "ListRoles", result) == result
    assert roundtrip_response("iam", "ListRoles", {"Roles": [], "IsTruncated": False}) == {
        "Roles": [],
        "IsTruncated": False,
    }


def test_response_layout_and_result_omitted_without_output() -> None:
    body = (
        codec("iam")
        .serialize(op("iam", "CreateRole"), {"Role": {"RoleName": "x", "CreateDate": T}}, "rid")
        .body
    )
    assert body.startswith(
        b'<CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateRoleResult>'
    )
    assert b"<CreateDate>2026-11-27T12:00:00Z</CreateDate>" in body
    assert body.endswith(
        b"<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></CreateRoleResponse>"
    )
    resp = codec("iam").serialize(op("iam", "DeleteRole"), {}, "rid")
    assert resp.body == (
        b'<DeleteRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata>'
        b"<RequestId>rid</RequestId></ResponseMetadata></DeleteRoleResponse>"
    )
    assert resp.headers["Content-Type"] == "text/xml"
    assert roundtrip_response("iam", "DeleteRole", {}) == {}


def test_sts_assume_role_request_and_response() -> None:
    params = {
        "RoleArn": "arn:aws:iam::123456789012:role/r1",
        "RoleSessionName": "s1",
        "DurationSeconds": 900,
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        "Tags": [{"Key": "k", "Value": "v"}],
        "TransitiveTagKeys": ["k"],
        "ExternalId": "ext",
    }
    assert roundtrip_request("sts", "AssumeRole", params) == params
    result = {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLE",
            "SecretAccessKey": "secret",
            "SessionToken": "token",
            "Expiration": T,
        },
        "AssumedRoleUser": {
            "AssumedRoleId": "AROA:s1",
            "Arn": "arn:aws:sts::123456789012:assumed-role/r1/s1",
        },
        "PackedPolicySize": 6,
    }
    assert roundtrip_response("sts", "AssumeRole", result) == result


def test_sts_get_caller_identity_namespace() -> None:
    assert roundtrip_request("sts", "GetCallerIdentity", {}) == {}
    result = {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/admin"}
    assert roundtrip_response("sts", "GetCallerIdentity", result) == result
    body = codec("sts").serialize(op("sts", "GetCallerIdentity"), result, "r").body
    assert body.startswith(b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')


def test_maps_and_empty_lists() -> None:
    params = {"Name": "t", "Attributes": {"DisplayName": "x", "Policy": "{}"}, "Tags": []}
    assert roundtrip_request("sns", "CreateTopic", params) == params
    assert roundtrip_response("sns", "GetTopicAttributes", {"Attributes": {"a": "1"}}) == {
        "Attributes": {"a": "1"}
    }


def test_flattened_lists_both_ways() -> None:
    attrs = [{"Name": "n", "Value": "v", "Replace": True}, {"Name": "m", "Value": "w"}]
    params = {"DomainName": "d", "ItemName": "i", "Attributes": attrs}
    assert roundtrip_request("sdb", "PutAttributes", params) == params
    result = {"Attributes": [{"Name": "n", "Value": "v"}]}
    assert roundtrip_response("sdb", "GetAttributes", result) == result
    body = codec("sdb").serialize(op("sdb", "GetAttributes"), result, "r").body
    assert b"<GetAttributesResult><Attribute><Name>n</Name>" in body


def test_get_request_with_query_string() -> None:
    c = codec("iam")
    request = raw_request("GET", "/", "Action=GetRole&Version=2010-05-08&RoleName=r%2B1")
    found, _ = c.find_operation(request)
    assert found.name == "GetRole"
    assert c.parse(found, request, {}) == {"RoleName": "r+1"}


def test_missing_and_unknown_action() -> None:
    c = codec("iam")
    with pytest.raises(ServiceError) as err:
        c.find_operation(raw_request("POST", "/", body=b"Version=2010-05-08", headers=FORM))
    assert (err.value.code, err.value.message, err.value.status) == ("MissingAction", "Missing Action", 400)
    with pytest.raises(ServiceError) as err:
        c.find_operation(raw_request("POST", "/", body=b"Action=Nope&Version=2010-05-08", headers=FORM))
    assert (err.value.code, err.value.status) == ("InvalidAction", 400)
    assert err.value.message == "Could not find operation Nope for version 2010-05-08"


def test_wrongly_typed_value() -> None:
    c = codec("iam")
    request = raw_request(
        "POST", "/", body=b"Action=ListRoles&Version=2010-05-08&MaxItems=many", headers=FORM
    )
    found, _ = c.find_operation(request)
    with pytest.raises(ServiceError) as err:
        c.parse(found, request, {})
    assert (err.value.code, err.value.status) == ("MalformedInput", 400)


def test_errors_read_by_botocore() -> None:
    error = ServiceError("NoSuchEntity", "The role with name x cannot be found.", 404)
    status, parsed, raw = error_roundtrip("iam", "GetRole", error)
    assert status == 404
    assert parsed["Error"] == {"Type": "Sender", "Code": "NoSuchEntity", "Message": error.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-err"
    assert raw.body.startswith(b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>')
    failure = ServiceError("ServiceFailure", "boom & <bust>", 500, sender_fault=False)
    status, parsed, _ = error_roundtrip("iam", "GetRole", failure)
    assert (status, parsed["Error"]["Type"], parsed["Error"]["Message"]) == (500, "Receiver", "boom & <bust>")
