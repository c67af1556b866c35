"""The rest codecs (s3 rest-xml, sagemaker-runtime rest-json) against botocore's serializer and parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sagelocal.gateway.protocols.rest_codec import has_streaming_input
from sagelocal.services.base import ServiceError
from tests.unit.codec_helpers import (
    codec,
    error_roundtrip,
    op,
    raw_request,
    request_for,
    roundtrip_request,
    roundtrip_response,
)

T = datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC)
T0 = T.replace(microsecond=0)


def test_list_objects_v2() -> None:
    params = {
        "Bucket": "data",
        "Prefix": "train/",
        "Delimiter": "/",
        "MaxKeys": 100,
        "ContinuationToken": "tok",
        "StartAfter": "a",
        "FetchOwner": True,
        "EncodingType": "url",
    }
    assert roundtrip_request("s3", "ListObjectsV2", params) == params
    result = {
        "IsTruncated": True,
        "Contents": [
            {"Key": "train/a.csv", "LastModified": T, "ETag": '"e1"', "Size": 3, "StorageClass": "STANDARD"},
            {
                "Key": "train/b & <c>.csv",
                "LastModified": T,
                "ETag": '"e2"',
                "Size": 0,
                "StorageClass": "STANDARD",
            },
        ],
        "Name": "data",
        "Prefix": "train/",
        "Delimiter": "/",
        "MaxKeys": 100,
        "CommonPrefixes": [{"Prefix": "train/sub/"}],
        "KeyCount": 3,
        "NextContinuationToken": "next",
    }
    assert roundtrip_response("s3", "ListObjectsV2", result) == result
    body = codec("s3").serialize(op("s3", "ListObjectsV2"), result, "r").body
    assert body.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    )
    assert b"<LastModified>2026-11-27T12:00:00.123Z</LastModified>" in body


def test_put_object_streams_the_body_through() -> None:
    params = {
        "Bucket": "data",
        "Key": "dir/my file+1 é.csv",
        "Body": b"a,b\n1,2\n",
        "ContentType": "text/csv",
        "Metadata": {"owner": "me", "stage": "raw"},
        "Tagging": "k=v",
    }
    parsed = roundtrip_request("s3", "PutObject", params)
    assert parsed.pop("ContentLength") == len(params["Body"])
    assert parsed == params
    assert has_streaming_input(op("s3", "PutObject")) and not has_streaming_input(op("s3", "DeleteObjects"))
    result = {"ETag": '"abc"', "VersionId": "v1"}
    assert roundtrip_response("s3", "PutObject", result) == result


def test_get_object_request_headers_and_streaming_response() -> None:
    params = {"Bucket": "data", "Key": "a/b", "Range": "bytes=0-9", "IfModifiedSince": T, "VersionId": "v1"}
    parsed = roundtrip_request("s3", "GetObject", params)
    assert parsed == {**params, "IfModifiedSince": T0}
    result = {
        "Body": b"0123456789",
        "ContentLength": 10,
        "ContentType": "text/plain",
        "ETag": '"e"',
        "LastModified": T0,
        "Metadata": {"owner": "me"},
        "ContentRange": "bytes 0-9/100",
    }
    parsed = roundtrip_response("s3", "GetObject", result)
    assert parsed.pop("Body").read() == b"0123456789"
    assert parsed == {k: v for k, v in result.items() if k != "Body"}
    response = codec("s3").serialize(op("s3", "GetObject"), result, "r")
    assert response.headers["Last-Modified"] == "Fri, 27 Nov 2026 12:00:00 GMT"
    assert response.headers["x-amz-meta-owner"] == "me"


def test_streamed_response_body_is_passed_through() -> None:
    chunks = iter([b"ab", b"cd"])
    response = codec("s3").serialize(op("s3", "GetObject"), {"Body": chunks, "ContentLength": 4}, "r")
    assert response.body is chunks


def test_head_object() -> None:
    assert roundtrip_request("s3", "HeadObject", {"Bucket": "b", "Key": "k"}) == {"Bucket": "b", "Key": "k"}
    result = {
        "ContentLength": 5,
        "LastModified": T0,
        "ETag": '"e"',
        "Metadata": {"a": "1"},
        "ContentType": "x/y",
    }
    assert roundtrip_response("s3", "HeadObject", result) == result
    assert codec("s3").serialize(op("s3", "HeadObject"), result, "r").body == b""


def test_create_bucket_configuration_payload() -> None:
    params = {"Bucket": "data", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}
    assert roundtrip_request("s3", "CreateBucket", params) == params
    assert roundtrip_request("s3", "CreateBucket", {"Bucket": "data"}) == {"Bucket": "data"}
    assert roundtrip_response("s3", "CreateBucket", {"Location": "/data"}) == {"Location": "/data"}


def test_delete_objects() -> None:
    delete = {"Objects": [{"Key": "a"}, {"Key": "b/c", "VersionId": "v"}], "Quiet": False}
    params = {"Bucket": "data", "Delete": delete}
    assert roundtrip_request("s3", "DeleteObjects", params) == params
    result = {
        "Deleted": [{"Key": "a"}, {"Key": "b/c", "VersionId": "v"}],
        "Errors": [{"Key": "x", "Code": "AccessDenied", "Message": "Access Denied"}],
    }
    assert roundtrip_response("s3", "DeleteObjects", result) == result
    body = codec("s3").serialize(op("s3", "DeleteObjects"), result, "r").body
    assert b"<DeleteResult" in body and b"<Deleted><Key>a</Key></Deleted>" in body


def test_put_object_tagging() -> None:
    params = {
        "Bucket": "b",
        "Key": "k",
        "Tagging": {"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}]},
    }
    assert roundtrip_request("s3", "PutObjectTagging", params) == params
    tags = {"TagSet": [{"Key": "a", "Value": "1"}]}
    assert roundtrip_response("s3", "GetObjectTagging", tags) == tags
    assert roundtrip_response("s3", "GetObjectTagging", {"TagSet": []}) == {"TagSet": []}


def test_complete_multipart_upload() -> None:
    parts = [{"ETag": '"p1"', "PartNumber": 1}, {"ETag": '"p2"', "PartNumber": 2}]
    params = {"Bucket": "b", "Key": "big", "UploadId": "u-1", "MultipartUpload": {"Parts": parts}}
    assert roundtrip_request("s3", "CompleteMultipartUpload", params) == params
    result = {"Location": "http://b/big", "Bucket": "b", "Key": "big", "ETag": '"x-2"'}
    assert roundtrip_response("s3", "CompleteMultipartUpload", result) == result
    created = {"Bucket": "b", "Key": "big", "UploadId": "u-1"}
    assert roundtrip_response("s3", "CreateMultipartUpload", created) == created


def test_list_buckets_copy_object_and_acl_attributes() -> None:
    buckets = {"Buckets": [{"Name": "a", "CreationDate": T}], "Owner": {"ID": "o1"}}
    assert roundtrip_response("s3", "ListBuckets", buckets) == buckets
    copied = {"CopyObjectResult": {"ETag": '"e"', "LastModified": T}, "VersionId": "v"}
    assert roundtrip_response("s3", "CopyObject", copied) == copied
    grant = {"Grantee": {"ID": "o1", "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}
    acl = {"Owner": {"ID": "o1"}, "Grants": [grant]}
    assert roundtrip_response("s3", "GetBucketAcl", acl) == acl
    assert roundtrip_request("s3", "PutBucketAcl", {"Bucket": "b", "AccessControlPolicy": acl}) == {
        "Bucket": "b",
        "AccessControlPolicy": acl,
    }
    body = codec("s3").serialize(op("s3", "GetBucketAcl"), acl, "r").body
    assert b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"' in body


def test_get_bucket_location_root_text() -> None:
    body = codec("s3").serialize(op("s3", "GetBucketLocation"), {"LocationConstraint": "eu-west-1"}, "r").body
    assert body.endswith(
        b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>'
    )


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("GET", "/b", "list-type=2&prefix=x", {}, "ListObjectsV2"),
        ("GET", "/b", "prefix=x", {}, "ListObjects"),
        ("GET", "/b/", "", {}, "ListObjects"),
        ("GET", "/b", "tagging", {}, "GetBucketTagging"),
        ("GET", "/b", "location", {}, "GetBucketLocation"),
        ("GET", "/b", "uploads", {}, "ListMultipartUploads"),
        ("GET", "/b", "lifecycle", {}, "GetBucketLifecycleConfiguration"),
        ("GET", "/", "", {}, "ListBuckets"),
        ("GET", "/b/k", "", {}, "GetObject"),
        ("GET", "/b/k", "uploadId=u", {}, "ListParts"),
        ("GET", "/b/k", "x-id=GetObject", {}, "GetObject"),
        ("PUT", "/b/k", "", {}, "PutObject"),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "/s/k"}, "CopyObject"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "/s/k"}, "UploadPartCopy"),
        ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
        ("POST", "/b/k", "uploadId=u", {}, "CompleteMultipartUpload"),
        ("DELETE", "/b/k", "", {}, "DeleteObject"),
        ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload"),
        ("HEAD", "/b", "", {}, "HeadBucket"),
        ("HEAD", "/b/k/", "", {}, "HeadObject"),
        ("PUT", "/b", "", {}, "CreateBucket"),
    ],
)
def test_s3_routing_prefers_the_most_specific(
    method: str, path: str, query: str, headers: dict[str, str], expected: str
) -> None:
    found, _ = codec("s3").find_operation(raw_request(method, path, query, headers=headers))
    assert found.name == expected


def test_path_labels_are_percent_decoded() -> None:
    request = raw_request("GET", "/my-bucket/a%20b/c%2Bd/%C3%A9+%25.txt")
    found, labels = codec("s3").find_operation(request)
    assert found.name == "GetObject"
    assert labels == {"Bucket": "my-bucket", "Key": "a b/c+d/é+%.txt"}
    params = roundtrip_request("s3", "GetObject", {"Bucket": "b", "Key": "x/../y z?&=#"})
    assert params == {"Bucket": "b", "Key": "x/../y z?&=#"}


def test_s3_errors() -> None:
    error = ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": "a & b"})
    status, parsed, raw = error_roundtrip("s3", "GetObject", error, raw_request("GET", "/b/a"))
    assert status == 404
    assert parsed["Error"] == {
        "Code": "NoSuchKey",
        "Message": "The specified key does not exist.",
        "Key": "a & b",
    }
    assert parsed["ResponseMetadata"]["RequestId"] == "req-err"
    assert raw.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>')
    assert b"<RequestId>req-err</RequestId>" in raw.body
    status, parsed, raw = error_roundtrip(
        "s3", "HeadObject", ServiceError("NoSuchKey", "x", 404), raw_request("HEAD", "/b/a")
    )
    assert (status, raw.body, parsed["Error"]["Code"]) == (404, b"", "404")


def test_s3_unroutable_and_malformed_requests() -> None:
    with pytest.raises(ServiceError) as err:
        codec("s3").find_operation(raw_request("PATCH", "/b/k"))
    assert (err.value.code, err.value.status) == ("MethodNotAllowed", 405)
    assert err.value.fields == {"Method": "PATCH", "ResourceType": "OBJECT"}
    request = raw_request("POST", "/b", "delete", body=b"<Delete><Object><Key>a</Key></Delete>")
    with pytest.raises(ServiceError) as err:
        codec("s3").parse(op("s3", "DeleteObjects"), request, {"Bucket": "b"})
    assert (err.value.code, err.value.status) == ("MalformedXML", 400)
    request = raw_request("GET", "/b", "list-type=2&max-keys=lots")
    with pytest.raises(ServiceError) as err:
        codec("s3").parse(op("s3", "ListObjectsV2"), request, {"Bucket": "b"})
    assert (err.value.code, err.value.fields["ArgumentName"]) == ("InvalidArgument", "max-keys")


def test_invoke_endpoint() -> None:
    params = {
        "EndpointName": "xgb-endpoint",
        "Body": b"5.1,3.5,1.4",
        "ContentType": "text/csv",
        "Accept": "application/json",
        "CustomAttributes": "trace=1",
        "TargetVariant": "AllTraffic",
        "InferenceId": "id-1",
    }
    request = request_for("sagemaker-runtime", "InvokeEndpoint", params)
    assert request.path == "/endpoints/xgb-endpoint/invocations"
    assert roundtrip_request("sagemaker-runtime", "InvokeEndpoint", params) == params
    result = {
        "Body": b'{"predictions":[0.9]}',
        "ContentType": "application/json",
        "InvokedProductionVariant": "AllTraffic",
    }
    parsed = roundtrip_response("sagemaker-runtime", "InvokeEndpoint", result)
    assert parsed.pop("Body").read() == result["Body"]
    assert parsed == {k: v for k, v in result.items() if k != "Body"}


def test_runtime_errors() -> None:
    fields = {"OriginalStatusCode": 400, "OriginalMessage": "bad input", "LogStreamArn": "arn:aws:logs:x"}
    error = ServiceError("ModelError", "Received client error (400) from primary", 424, fields=fields)
    status, parsed, raw = error_roundtrip("sagemaker-runtime", "InvokeEndpoint", error)
    assert (status, parsed["Error"]["Code"], parsed["Error"]["Message"]) == (424, "ModelError", error.message)
    assert {k: parsed[k] for k in fields} == fields
    assert raw.headers["x-amzn-ErrorType"] == "ModelError"
    missing = ServiceError("ValidationError", "Endpoint x of account 1 not found.", 400)
    _, parsed, raw = error_roundtrip("sagemaker-runtime", "InvokeEndpoint", missing)
    assert parsed["Error"] == {"Code": "ValidationError", "Message": missing.message}
    assert json.loads(raw.body) == {"Message": missing.message}
    with pytest.raises(ServiceError) as err:
        codec("sagemaker-runtime").find_operation(raw_request("GET", "/nowhere"))
    assert (err.value.code, err.value.status) == ("UnknownOperationException", 404)
