"""SigV4 through the real server: bad secrets, tampered requests, skewed clocks, expired URLs."""

from __future__ import annotations

import datetime as dt
import importlib
import time
import urllib.error
import urllib.parse
import urllib.request

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import AwsClients


def _skew_clock(monkeypatch: pytest.MonkeyPatch, when: dt.datetime) -> None:
    """Make botocore sign as if its clock read `when` (its own signers and, with awscrt, the CRT's)."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda **_: when)
    if botocore.auth.HAS_CRT:
        crt_auth = importlib.import_module("botocore.crt.auth")
        monkeypatch.setattr(crt_auth, "get_current_datetime", lambda **_: when)


def _error(call) -> dict:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as err:
        call()
    return {**err.value.response["Error"], "status": err.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def _send(req: AWSRequest) -> tuple[int, bytes]:
    prepared = req.prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    raw = urllib.request.Request(prepared.url, data=body, method=prepared.method)
    for k, v in prepared.headers.items():
        raw.add_header(k, v)
    try:
        with urllib.request.urlopen(raw, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_wrong_secret_is_refused_in_each_protocol(aws: AwsClients) -> None:
    key = aws.creds["aws_access_key_id"]
    bad = aws.as_credentials(key, "x" * 40)
    e = _error(bad.client("sts").get_caller_identity)
    assert (e["Code"], e["status"]) == ("SignatureDoesNotMatch", 403)
    assert e["Message"].startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    e = _error(bad.client("iam").list_roles)
    assert (e["Code"], e["status"]) == ("SignatureDoesNotMatch", 403)
    e = _error(bad.client("logs").describe_log_groups)
    # JSON-protocol services answer a bad signature with 400 (DynamoDB, Kinesis, SageMaker alike)
    assert (e["Code"], e["status"]) == ("InvalidSignatureException", 400)
    e = _error(bad.client("s3").list_buckets)
    assert (e["Code"], e["status"]) == ("SignatureDoesNotMatch", 403)


def test_unknown_access_key_is_refused_in_each_protocol(aws: AwsClients) -> None:
    nobody = aws.as_credentials("AKIAAAAAAAAAAAAAAAAA", "y" * 40)
    e = _error(nobody.client("sts").get_caller_identity)
    assert (e["Code"], e["status"]) == ("InvalidClientTokenId", 403)
    assert e["Message"] == "The security token included in the request is invalid."
    e = _error(nobody.client("logs").describe_log_groups)
    assert (e["Code"], e["status"]) == ("UnrecognizedClientException", 400)
    e = _error(nobody.client("s3").list_buckets)
    assert (e["Code"], e["status"]) == ("InvalidAccessKeyId", 403)


def test_tampered_body_is_refused(aws: AwsClients) -> None:
    creds = Credentials(aws.creds["aws_access_key_id"], aws.creds["aws_secret_access_key"])
    url = aws.server.endpoint_url + "/"
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    form = {
        "Action": "CreateRole",
        "Version": "2010-05-08",
        "RoleName": "Tampered",
        "AssumeRolePolicyDocument": trust,
    }
    body = urllib.parse.urlencode(form)
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    req = AWSRequest("POST", url, data=body, headers=headers)
    SigV4Auth(creds, "iam", aws.server.region).add_auth(req)
    req.data = body.replace("Tampered", "Tampered2")
    status, payload = _send(req)
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in payload
    names = [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]]
    assert "Tampered" not in names and "Tampered2" not in names

    # the same request untampered goes through (the check above is not vacuous)
    good = AWSRequest("POST", url, data=body, headers=headers)
    SigV4Auth(creds, "iam", aws.server.region).add_auth(good)
    status, payload = _send(good)
    assert status == 200, payload
    aws.client("iam").delete_role(RoleName="Tampered")


@pytest.mark.parametrize("minutes", [-16, 16])
def test_skewed_clock_is_refused(aws: AwsClients, monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    _skew_clock(monkeypatch, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes))
    e = _error(aws.client("sts").get_caller_identity)
    assert (e["Code"], e["status"]) == ("SignatureDoesNotMatch", 403)
    assert e["Message"].startswith("Signature expired:" if minutes < 0 else "Signature not yet current:")
    e = _error(aws.client("s3").list_buckets)
    assert (e["Code"], e["status"]) == ("RequestTimeTooSkewed", 403)


def test_small_skew_is_accepted(aws: AwsClients, monkeypatch: pytest.MonkeyPatch) -> None:
    _skew_clock(monkeypatch, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))
    assert aws.client("sts").get_caller_identity()["Arn"].endswith(":user/admin")


def test_expired_presigned_url_is_refused(aws: AwsClients) -> None:
    s3 = aws.client("s3")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=10)
    assert err.value.code == 403
    body = err.value.read()
    assert b"<Code>AccessDenied</Code>" in body and b"<Message>Request has expired</Message>" in body


def test_presigned_sts_url_works_and_expires(aws: AwsClients) -> None:
    sts = aws.client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=2, HttpMethod="GET")
    with urllib.request.urlopen(url, timeout=10) as r:
        assert b"<Arn>" in r.read() and r.status == 200
    time.sleep(3.1)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=10)
    assert err.value.code == 403


def test_unsigned_request_to_a_signed_service_is_refused(aws: AwsClients) -> None:
    req = urllib.request.Request(
        aws.server.endpoint_url + "/?Action=GetCallerIdentity&Version=2011-06-15", method="GET"
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 403
    assert b"MissingAuthenticationToken" in err.value.read()
