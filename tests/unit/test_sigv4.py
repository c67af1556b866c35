"""SigV4 verification against requests boto3 really signs, received as the ASGI server delivers them."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sagelocal.gateway.http import Headers, HttpRequest
from sagelocal.gateway.sigv4 import Family, PayloadMode, auth_error, parse_signature, signing_key
from tests.unit.sigv4_helpers import (
    ACCESS_KEY,
    ODD_KEY,
    REGION,
    SECRET,
    TOKEN,
    capture,
    client,
    from_url,
    received,
    refused,
    verify,
    with_headers,
)

MISMATCH = "The request signature we calculated does not match the signature you provided."

# (service, operation, params, family): one real request per protocol, GET and PUT, odd characters.
SIGNED_CALLS: list[tuple[str, str, dict[str, Any], str]] = [
    ("sts", "get_caller_identity", {}, "query"),
    ("iam", "create_user", {"UserName": "alice+bob=1@x", "Path": "/team/"}, "query"),
    ("logs", "describe_log_groups", {"logGroupNamePrefix": "/aws/sagemaker/"}, "json"),
    ("sagemaker", "list_endpoints", {"NameContains": "xgb"}, "json"),
    (
        "sagemaker-runtime",
        "invoke_endpoint",
        {"EndpointName": "xgb-1", "Body": b"1,2,3\n", "ContentType": "text/csv"},
        "rest-json",
    ),
    ("s3", "list_objects_v2", {"Bucket": "bkt", "Prefix": "a b+c=d/ü/✓~", "Delimiter": "/"}, "s3"),
    ("s3", "get_object", {"Bucket": "bkt", "Key": ODD_KEY}, "s3"),
    (
        "s3",
        "put_object",
        {"Bucket": "bkt", "Key": ODD_KEY, "Body": b"hello", "ContentType": "text/plain"},
        "s3",
    ),
]


@pytest.mark.parametrize(("service", "operation", "params", "family"), SIGNED_CALLS)
def test_header_signed_requests_verify(service: str, operation: str, params: dict, family: str) -> None:
    request = capture(client(service), operation, **params)
    info = verify(request, family)
    assert (info.access_key_id, info.region, info.family) == (ACCESS_KEY, REGION, family)
    assert info.service == {"sagemaker-runtime": "sagemaker"}.get(service, service)
    assert not info.is_presigned and info.security_token is None
    assert info.payload_mode is (PayloadMode.SHA256 if family == "s3" else PayloadMode.BODY)


def test_odd_characters_reach_the_verifier_percent_encoded() -> None:
    put = capture(client("s3"), "put_object", Bucket="bkt", Key=ODD_KEY, Body=b"x")
    assert put.path == "/bkt/dir/my%20file%2Bx%3D1%20%C3%BC%E2%9C%93~%281%29%26a.txt"
    listing = capture(client("s3"), "list_objects_v2", Bucket="bkt", Prefix="a b+c=d/ü/✓~")
    assert "prefix=a%20b%2Bc%3Dd%2F%C3%BC%2F%E2%9C%93~" in listing.query_string


def test_session_token_is_signed_and_reported() -> None:
    sts = capture(client("sts", token=TOKEN), "get_caller_identity")
    assert verify(sts, "query").security_token == TOKEN
    put = capture(client("s3", token=TOKEN), "put_object", Bucket="bkt", Key="k", Body=b"v")
    assert verify(put, "s3").security_token == TOKEN


def test_date_header_instead_of_x_amz_date() -> None:
    request = AWSRequest(
        "POST", "http://127.0.0.1:4570/", data=b"Action=GetCallerIdentity&Version=2011-06-15"
    )
    request.headers["Date"] = "placeholder"  # botocore then signs a Date header, no X-Amz-Date
    request.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "sts", REGION).add_auth(request)
    info = verify(received(request.prepare()), "query")
    assert "x-amz-date" not in info.signed_headers and "date" in info.signed_headers


def test_aws_sigv4_test_suite_vectors() -> None:
    """get-vanilla and get-vanilla-query-order-key-case from AWS's SigV4 test suite."""
    cases = [
        ("", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ]
    for query, signature in cases:
        auth = (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={signature}"
        )
        headers = Headers(
            [("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z"), ("authorization", auth)]
        )
        verify(
            HttpRequest("GET", "/", query, headers), "json", secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        )


def test_anonymous_request_has_no_signature() -> None:
    request = from_url("http://127.0.0.1:4570/bkt/key?versionId=3")
    assert parse_signature(request, "s3") is None


# --- failures, worded per protocol family ---------------------------------------------------------

FAMILY_CALLS = {family: (service, operation, params) for service, operation, params, family in SIGNED_CALLS}


@pytest.mark.parametrize(
    ("family", "code", "status"),
    [
        ("query", "SignatureDoesNotMatch", 403),
        ("json", "InvalidSignatureException", 400),
        ("rest-json", "InvalidSignatureException", 403),
    ],
)
def test_wrong_secret_non_s3(family: str, code: str, status: int) -> None:
    service, operation, params = FAMILY_CALLS[family]
    request = capture(client(service, secret="not-the-secret"), operation, **params)
    err = refused(request, family)
    assert (err.code, err.status) == (code, status)
    assert err.message.startswith(
        MISMATCH + " Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'"
    )
    assert "\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" in err.message


def test_wrong_secret_s3_reports_what_it_computed() -> None:
    request = capture(
        client("s3", secret="not-the-secret"), "put_object", Bucket="bkt", Key="k.txt", Body=b"v"
    )
    err = refused(request, "s3")
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 403)
    assert err.message == MISMATCH + " Check your key and signing method."
    assert err.fields["AWSAccessKeyId"] == ACCESS_KEY
    assert err.fields["SignatureProvided"] == parse_signature(request, "s3").signature
    assert err.fields["CanonicalRequest"].startswith("PUT\n/bkt/k.txt\n\n")
    assert err.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert err.fields["StringToSignBytes"].startswith("41 57 53 34")


@pytest.mark.parametrize("family", ["query", "json", "rest-json"])
def test_tampered_body_non_s3(family: str) -> None:
    service, operation, params = FAMILY_CALLS[family]
    request = capture(client(service), operation, **params)
    tampered = HttpRequest(
        request.method, request.path, request.query_string, request.headers, request.body + b" "
    )
    assert refused(tampered, family).message.startswith(MISMATCH)


def test_tampered_body_s3_is_a_content_sha256_mismatch() -> None:
    request = capture(client("s3"), "put_object", Bucket="bkt", Key="k", Body=b"hello")
    tampered = HttpRequest(request.method, request.path, request.query_string, request.headers, b"HELLO")
    err = refused(tampered, "s3")
    assert (err.code, err.status) == ("XAmzContentSHA256Mismatch", 400)
    assert err.message == "The provided 'x-amz-content-sha256' header does not match what was computed."
    assert err.fields == {
        "ClientComputedContentSHA256": hashlib.sha256(b"hello").hexdigest(),
        "S3ComputedContentSHA256": hashlib.sha256(b"HELLO").hexdigest(),
    }


def test_tampered_headers() -> None:
    target = capture(client("sagemaker"), "list_endpoints")
    assert refused(with_headers(target, x_amz_target="SageMaker.DeleteEndpoint"), "json").status == 400
    put = capture(client("s3"), "put_object", Bucket="b", Key="k", Body=b"v", ContentType="text/plain")
    assert refused(with_headers(put, content_type="text/html"), "s3").code == "SignatureDoesNotMatch"
    err = refused(with_headers(put, x_amz_meta_owner="mallory", x_amz_acl="public-read"), "s3")
    assert (err.code, err.status, err.message) == (
        "AccessDenied",
        403,
        "There were headers present in the request which were not signed",
    )
    assert err.fields == {"HeadersNotSigned": "x-amz-meta-owner, x-amz-acl"}


def test_tampered_query() -> None:
    listing = capture(client("s3"), "list_objects_v2", Bucket="bkt", Prefix="public/")
    tampered = HttpRequest(
        "GET", listing.path, listing.query_string.replace("public", "secret"), listing.headers
    )
    assert refused(tampered, "s3").code == "SignatureDoesNotMatch"
    logs = capture(client("logs"), "describe_log_groups")
    extra = HttpRequest(logs.method, logs.path, "x=1", logs.headers, logs.body)
    assert refused(extra, "json").code == "InvalidSignatureException"


def test_equivalent_encodings_still_verify() -> None:
    """A client or proxy may re-encode what botocore signed; the decoded request is the same."""
    get = capture(client("s3"), "get_object", Bucket="bkt", Key="a~b c")
    assert get.path == "/bkt/a~b%20c"
    verify(HttpRequest("GET", "/bkt/a%7eb%20c", "", get.headers), "s3")
    listing = capture(client("s3"), "list_objects_v2", Bucket="bkt", Prefix="x y")
    verify(
        HttpRequest("GET", listing.path, listing.query_string.replace("x%20y", "x+y"), listing.headers), "s3"
    )


@pytest.mark.parametrize("minutes", [-16, 16])
@pytest.mark.parametrize("family", ["query", "json", "rest-json"])
def test_clock_skew_non_s3(family: str, minutes: int) -> None:
    service, operation, params = FAMILY_CALLS[family]
    request = capture(client(service), operation, **params)
    date = parse_signature(request, family).date
    verify(request, family, now=date - timedelta(minutes=14 if minutes > 0 else -14))
    now = date - timedelta(minutes=minutes)  # the client's clock is `minutes` off
    err = refused(request, family, now=now)
    assert err.code == ("SignatureDoesNotMatch" if family == "query" else "InvalidSignatureException")
    stamp = date.strftime("%Y%m%dT%H%M%SZ")
    now_s = now.strftime("%Y%m%dT%H%M%SZ")
    if minutes < 0:
        bound = (now - timedelta(minutes=15)).strftime("%Y%m%dT%H%M%SZ")
        assert err.message == f"Signature expired: {stamp} is now earlier than {bound} ({now_s} - 15 min.)"
    else:
        bound = (now + timedelta(minutes=15)).strftime("%Y%m%dT%H%M%SZ")
        assert (
            err.message
            == f"Signature not yet current: {stamp} is still later than {bound} ({now_s} + 15 min.)"
        )


@pytest.mark.parametrize("minutes", [-16, 16])
def test_clock_skew_s3(minutes: int) -> None:
    request = capture(client("s3"), "list_buckets")
    info = parse_signature(request, "s3")
    now = info.date - timedelta(minutes=minutes, microseconds=250)
    err = refused(request, "s3", now=now)
    assert (err.code, err.status) == ("RequestTimeTooSkewed", 403)
    assert err.message == "The difference between the request time and the current time is too large."
    assert err.fields == {
        "RequestTime": info.amz_date,
        "ServerTime": now.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "MaxAllowedSkewMilliseconds": 900000,
    }


# --- malformed claims -----------------------------------------------------------------------------


def _with_auth(value: str, *, date: str = "20261127T120000Z") -> HttpRequest:
    headers = [
        ("host", "127.0.0.1:4570"),
        ("authorization", value),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
    ]
    return HttpRequest("GET", "/", "", Headers([*headers, ("x-amz-date", date)] if date else headers))


def test_malformed_authorization_header() -> None:
    partial = "AWS4-HMAC-SHA256 Credential=AKID/20261127/ap-northeast-1/sts/aws4_request"
    err = refused(_with_auth(partial), "query")
    assert (err.code, err.status) == ("IncompleteSignature", 400)
    assert err.message == (
        "Authorization header requires 'Signature' parameter. "
        f"Authorization header requires 'SignedHeaders' parameter. Authorization={partial}"
    )
    err = refused(_with_auth("Bearer abc", date=""), "json")
    assert err.code == "IncompleteSignatureException"
    assert err.message.endswith(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc"
    )
    err = refused(_with_auth(partial), "s3")
    assert (err.code, err.status) == ("AuthorizationHeaderMalformed", 400)
    assert err.message == (
        "The authorization header is malformed; the authorization header requires three components: "
        "Credential, SignedHeaders, and Signature."
    )
    spaced = "AWS4-HMAC-SHA256 Credential=AKID /20261127/x/sts/aws4_request, SignedHeaders=host, Signature=00"
    err = refused(_with_auth(spaced), "query")
    assert err.message == (
        "'/20261127/x/sts/aws4_request' not a valid key=value pair (missing equal-sign) "
        f"in Authorization header: '{spaced}'."
    )


def test_malformed_credential_and_dates() -> None:
    short = "AWS4-HMAC-SHA256 Credential=AKID/20261127/s3/aws4_request, SignedHeaders=host, Signature=00"
    err = refused(_with_auth(short), "s3")
    assert err.message == (
        'The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
    )
    no_key = "AWS4-HMAC-SHA256 Credential=/20261127/r/s3/aws4_request, SignedHeaders=host, Signature=00"
    assert refused(_with_auth(no_key), "s3").message.endswith(
        "a non-empty Access Key (AKID) must be provided in the credential."
    )
    assert refused(_with_auth(short), "json").code == "IncompleteSignatureException"
    other_day = (
        "AWS4-HMAC-SHA256 Credential=AKID/20261126/r/sts/aws4_request, SignedHeaders=host, Signature=00"
    )
    err = refused(_with_auth(other_day), "query")
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 403)
    assert "'20261126' != '20261127', from '20261127T120000Z'" in err.message


def test_s3_header_rules() -> None:
    assert refused(_with_auth("AWS AKID:c2lnbmF0dXJl"), "s3").message == (
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
    )
    put = capture(client("s3"), "put_object", Bucket="b", Key="k", Body=b"v")
    missing = HttpRequest(
        "PUT", put.path, "", Headers([h for h in put.headers.raw() if h[0] != "x-amz-content-sha256"])
    )
    err = refused(missing, "s3")
    assert (err.code, err.message) == (
        "InvalidRequest",
        "Missing required header for this request: x-amz-content-sha256",
    )
    err = refused(with_headers(put, x_amz_content_sha256="md5-please"), "s3")
    assert (err.code, err.fields["ArgumentValue"]) == ("InvalidArgument", "md5-please")


# --- the builders the gateway uses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "kind", "code", "status", "message"),
    [
        (
            "query",
            "invalid_key",
            "InvalidClientTokenId",
            403,
            "The security token included in the request is invalid.",
        ),
        (
            "json",
            "unknown-key",
            "UnrecognizedClientException",
            400,
            "The security token included in the request is invalid.",
        ),
        (
            "rest-json",
            "invalid_key",
            "UnrecognizedClientException",
            403,
            "The security token included in the request is invalid.",
        ),
        (
            "s3",
            "invalid_key",
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
        (
            "query",
            "expired_token",
            "ExpiredToken",
            403,
            "The security token included in the request is expired",
        ),
        (
            "json",
            "expired-token",
            "ExpiredTokenException",
            400,
            "The security token included in the request is expired",
        ),
        ("s3", "expired_token", "ExpiredToken", 400, "The provided token has expired."),
        (
            "query",
            "bad-token",
            "InvalidClientTokenId",
            403,
            "The security token included in the request is invalid.",
        ),
        ("s3", "invalid_token", "InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
        ("query", "missing", "MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        (
            "json",
            "missing_auth",
            "MissingAuthenticationTokenException",
            403,
            "Request is missing Authentication Token",
        ),
        ("s3", "missing_auth", "AccessDenied", 403, "Access Denied"),
    ],
)
def test_auth_error_builders(family: str, kind: str, code: str, status: int, message: str) -> None:
    err = auth_error(family, kind, access_key_id="AKIAUNKNOWN")
    assert (err.code, err.status, err.message) == (code, status, message)
    if code == "InvalidAccessKeyId":
        assert err.fields == {"AWSAccessKeyId": "AKIAUNKNOWN"}


def test_errors_re_render_for_another_family() -> None:
    request = capture(client("logs", secret="wrong"), "describe_log_groups")
    err = refused(request, "json")
    assert err.for_family(Family.QUERY).code == "SignatureDoesNotMatch"
    region = auth_error("s3", "wrong_region", expected="us-west-2", got="us-east-1")
    assert (
        region.message
        == "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'us-west-2'"
    )
    assert region.for_family("json").message == "Credential should be scoped to a valid region. "


def test_signing_keys_are_cached_and_match_botocore() -> None:
    signing_key.cache_clear()
    key = signing_key(SECRET, "20261127", REGION, "s3")
    assert signing_key(SECRET, "20261127", REGION, "s3") is key
    assert signing_key.cache_info().hits == 1
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", REGION)
    request = AWSRequest("GET", "http://x/")
    request.context["timestamp"] = "20261127T000000Z"
    assert signer.signature("abc", request) == hmac.new(key, b"abc", hashlib.sha256).hexdigest()


def test_verifies_against_the_real_clock() -> None:
    request = capture(client("sts"), "get_caller_identity")
    verify(request, "query", now=datetime.now(UTC))
