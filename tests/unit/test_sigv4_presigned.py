"""Presigned URLs: SigV4 query auth (S3, STS) and the SigV2 URLs boto3 still makes for S3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sagelocal.gateway.sigv4 import PayloadMode, parse_signature
from tests.unit.sigv4_helpers import ACCESS_KEY, ODD_KEY, TOKEN, client, from_url, refused, verify


def test_presigned_s3_get_and_put_verify() -> None:
    s3 = client("s3", signature_version="s3v4")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": ODD_KEY}, ExpiresIn=300)
    info = verify(from_url(url), "s3")
    assert info.is_presigned and info.expires == 300 and info.payload_mode is PayloadMode.UNSIGNED
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "bkt", "Key": "up/ü.bin"}, ExpiresIn=60)
    verify(from_url(url, "PUT", b"any body", (("content-type", "application/octet-stream"),)), "s3")


def test_presigned_with_session_token_and_presigned_sts() -> None:
    s3 = client("s3", token=TOKEN, signature_version="s3v4")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert verify(from_url(url), "s3").security_token == TOKEN
    sts = client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=900, HttpMethod="GET")
    info = verify(from_url(url), "query")
    assert info.is_presigned and info.service == "sts"
    # Without HttpMethod botocore signs the operation's POST; fetched with GET, AWS refuses it (boto3#756).
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=900)
    assert refused(from_url(url), "query").message.split("\n")[3] == "'GET"
    verify(from_url(url, "POST"), "query")


def test_presigned_url_expiry() -> None:
    url = client("s3", signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60
    )
    request = from_url(url)
    date = parse_signature(request, "s3").date
    verify(request, "s3", now=date + timedelta(seconds=60))
    err = refused(request, "s3", now=date + timedelta(seconds=61))
    assert (err.code, err.status, err.message) == ("AccessDenied", 403, "Request has expired")
    assert err.fields["X-Amz-Expires"] == "60"
    assert err.fields["Expires"] == (date + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert err.fields["ServerTime"] == (date + timedelta(seconds=61)).strftime("%Y-%m-%dT%H:%M:%SZ")
    err = refused(request, "s3", now=date - timedelta(minutes=16))
    assert (err.code, err.message) == ("AccessDenied", "Request is not yet valid")


def test_presigned_sts_expires_after_its_expires_or_15_minutes() -> None:
    sts = client("sts")
    request = from_url(sts.generate_presigned_url("get_caller_identity", ExpiresIn=120, HttpMethod="GET"))
    date = parse_signature(request, "query").date
    verify(request, "query", now=date + timedelta(seconds=120))
    err = refused(request, "query", now=date + timedelta(seconds=121))
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 403)
    assert err.message.startswith("Signature expired:") and err.message.endswith(" - 2 min.)")
    long = from_url(sts.generate_presigned_url("get_caller_identity", ExpiresIn=3600, HttpMethod="GET"))
    assert refused(long, "query", now=date + timedelta(minutes=16)).message.endswith(" - 15 min.)")


def test_presigned_expires_over_a_week_is_refused() -> None:
    url = client("s3", signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=604801
    )
    err = refused(from_url(url), "s3")
    assert (err.code, err.status) == ("AuthorizationQueryParametersError", 400)
    assert err.message == (
        "X-Amz-Expires must be less than a week (in seconds); that is, "
        "the given X-Amz-Expires must be less than 604800 seconds"
    )


def test_tampered_presigned_url_is_refused() -> None:
    url = client("s3", signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "a.txt"}, ExpiresIn=60
    )
    assert refused(from_url(url.replace("/a.txt", "/b.txt")), "s3").code == "SignatureDoesNotMatch"
    assert (
        refused(from_url(url.replace("X-Amz-Expires=60", "X-Amz-Expires=600")), "s3").code
        == "SignatureDoesNotMatch"
    )
    err = refused(from_url(url, headers=(("x-amz-acl", "public-read"),)), "s3")
    assert (err.code, err.fields) == ("AccessDenied", {"HeadersNotSigned": "x-amz-acl"})


def test_default_boto3_presigned_urls_are_sigv2_and_verify() -> None:
    """boto3 presigns S3 URLs with SigV2 unless told `signature_version="s3v4"`."""
    s3 = client("s3")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": ODD_KEY}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in url and "X-Amz-" not in url
    info = verify(from_url(url), "s3", now=datetime.now(UTC))
    assert (info.access_key_id, info.region, info.is_presigned) == (ACCESS_KEY, None, True)
    params = {"Bucket": "bkt", "Key": "up.csv", "ContentType": "text/csv"}
    url = client("s3", token=TOKEN).generate_presigned_url("put_object", Params=params)
    put = from_url(url, "PUT", b"a,b\n", (("content-type", "text/csv"),))
    assert verify(put, "s3", now=datetime.now(UTC)).security_token == TOKEN
    err = refused(
        from_url(url, "PUT", b"a,b\n", (("content-type", "text/html"),)), "s3", now=datetime.now(UTC)
    )
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 403)
    assert err.fields["StringToSign"].startswith("PUT\n\ntext/html\n")
    assert "CanonicalRequest" not in err.fields


def test_sigv2_presigned_url_expiry_and_tampering() -> None:
    url = client("s3").generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    info = parse_signature(from_url(url), "s3")
    later = info.expires_at + timedelta(seconds=1)
    err = refused(from_url(url), "s3", now=later)
    assert (err.code, err.status, err.message) == ("AccessDenied", 403, "Request has expired")
    assert err.fields == {
        "Expires": info.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ServerTime": later.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    tampered = from_url(url.replace("/b/k?", "/b/other?"))
    assert refused(tampered, "s3", now=datetime.now(UTC)).code == "SignatureDoesNotMatch"


def test_presigned_query_rules() -> None:
    url = client("s3", signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"}
    )
    err = refused(from_url(url.replace("X-Amz-SignedHeaders", "X-Amz-Ignored")), "s3")
    assert (err.code, err.message) == (
        "AuthorizationQueryParametersError",
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
    )
    both = from_url(url, headers=(("authorization", "AWS4-HMAC-SHA256 Credential=x"),))
    assert refused(both, "s3").code == "InvalidArgument"
