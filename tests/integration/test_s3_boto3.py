"""S3 through unchanged boto3 (client and resource APIs) against a real server, held to AWS's behaviour."""

from __future__ import annotations

import gzip
import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config

from tests.conftest import AwsClients
from tests.integration.s3_support import (
    Recorder,
    bucket_names,
    crc32_b64,
    create_bucket,
    delete_bucket,
    list_keys,
    md5_etag,
    read_body,
    s3_error,
    unique_bucket,
)

# ---- buckets -------------------------------------------------------------------------------------


def test_bucket_lifecycle(s3: Any) -> None:
    name = unique_bucket("life")
    before = datetime.now(UTC)
    resp = s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200

    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["BucketRegion"] == "ap-northeast-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "ap-northeast-1"

    listed = {b["Name"]: b for b in s3.list_buckets()["Buckets"]}
    assert name in listed
    created = listed[name]["CreationDate"]
    assert before - timedelta(seconds=5) <= created <= datetime.now(UTC) + timedelta(seconds=5)

    with s3_error("BucketAlreadyOwnedByYou", 409):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})

    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert name not in bucket_names(s3)
    with s3_error("404", 404):
        s3.head_bucket(Bucket=name)
    with s3_error("NoSuchBucket", 404):
        s3.delete_bucket(Bucket=name)


def test_dotted_bucket_name(s3: Any) -> None:
    name = f"my.dotted.{unique_bucket('b')}"
    create_bucket(s3, name)
    try:
        s3.put_object(Bucket=name, Key="k", Body=b"dotted")
        assert read_body(s3, name, "k") == b"dotted"
    finally:
        delete_bucket(s3, name)
    assert name not in bucket_names(s3)


def test_location_constraint_mismatch_is_refused(s3: Any) -> None:
    name = unique_bucket("mismatch")
    with s3_error("IllegalLocationConstraintException", 400):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert name not in bucket_names(s3)


def test_head_missing_bucket_is_exactly_404_not_found(s3: Any) -> None:
    """What the SageMaker SDK's default_bucket() needs before it creates the bucket."""
    with s3_error("404", 404) as err:
        s3.head_bucket(Bucket=unique_bucket("missing"))
    assert err.value.response["Error"]["Message"] == "Not Found"


def test_head_bucket_honours_expected_bucket_owner(aws: AwsClients, s3: Any, bucket: str) -> None:
    account = str(aws.server.health()["account_id"])  # type: ignore[index]
    assert (
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)["ResponseMetadata"]["HTTPStatusCode"]
        == 200
    )
    other = "111122223333" if account != "111122223333" else "444455556666"
    with s3_error("403", 403):
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=other)


# ---- objects ---------------------------------------------------------------------------------------


def test_put_get_head_with_metadata_and_content_headers(s3: Any, bucket: str) -> None:
    data = gzip.compress(b"age;job;marital\n56;housemaid;married\n" * 200)
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/data.csv",
        Body=data,
        ContentType="text/csv; charset=utf-8",
        ContentEncoding="gzip",
        ContentDisposition='attachment; filename="data.csv"',
        ContentLanguage="en",
        CacheControl="max-age=60",
        Metadata={"owner": "Team-A", "Mixed-Case": "Value Kept"},
    )
    assert put["ETag"] == md5_etag(data)
    assert put["ChecksumCRC32"] == crc32_b64(data)

    got = s3.get_object(Bucket=bucket, Key="dir/data.csv")
    assert got["Body"].read() == data
    head = s3.head_object(Bucket=bucket, Key="dir/data.csv")
    for resp in (got, head):
        assert resp["ContentLength"] == len(data)
        assert resp["ETag"] == md5_etag(data)
        assert resp["ContentType"] == "text/csv; charset=utf-8"
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentDisposition"] == 'attachment; filename="data.csv"'
        assert resp["ContentLanguage"] == "en"
        assert resp["CacheControl"] == "max-age=60"
        assert resp["Metadata"] == {"owner": "Team-A", "mixed-case": "Value Kept"}
        assert resp["AcceptRanges"] == "bytes"
        assert abs(resp["LastModified"] - datetime.now(UTC)) < timedelta(minutes=1)
    checked = s3.head_object(Bucket=bucket, Key="dir/data.csv", ChecksumMode="ENABLED")
    assert checked["ChecksumCRC32"] == crc32_b64(data)


def test_default_content_type_and_empty_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="plain", Body=b"xyz")
    assert s3.head_object(Bucket=bucket, Key="plain")["ContentType"] == "binary/octet-stream"
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0 and got["Body"].read() == b""
    assert got["ETag"] == md5_etag(b"")


def test_overwrite_replaces_bytes_and_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"old", Metadata={"v": "1"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"new bytes")
    head = s3.head_object(Bucket=bucket, Key="k")
    assert read_body(s3, bucket, "k") == b"new bytes"
    assert head["Metadata"] == {} and head["ETag"] == md5_etag(b"new bytes")


def test_response_header_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="r.bin", Body=b"{}", ContentType="application/octet-stream")
    got = s3.get_object(
        Bucket=bucket,
        Key="r.bin",
        ResponseContentType="application/json",
        ResponseContentDisposition='inline; filename="r.json"',
        ResponseCacheControl="no-cache",
        ResponseContentLanguage="fr",
        ResponseContentEncoding="identity",
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == 'inline; filename="r.json"'
    assert got["CacheControl"] == "no-cache"
    assert got["ContentLanguage"] == "fr"
    assert got["ContentEncoding"] == "identity"
    assert got["Body"].read() == b"{}"


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-24", 1000, 1023),
        ("bytes=1020-5000", 1020, 1023),
    ],
)
def test_ranged_get(s3: Any, bucket: str, range_header: str, start: int, end: int) -> None:
    data = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="ranged", Body=data)
    got = s3.get_object(Bucket=bucket, Key="ranged", Range=range_header)  # default checksum validation on
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == data[start : end + 1]
    assert got["ContentRange"] == f"bytes {start}-{end}/1024"
    assert got["ContentLength"] == end - start + 1
    head = s3.head_object(Bucket=bucket, Key="ranged", Range=range_header)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == end - start + 1


def test_conditional_get_and_head(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")
    head = s3.head_object(Bucket=bucket, Key="c")
    etag, modified = head["ETag"], head["LastModified"]
    day = timedelta(days=1)

    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional"
    with s3_error("PreconditionFailed", 412):
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"00000000000000000000000000000000"')
    with s3_error("304", 304):
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"other"')["Body"].read() == b"conditional"
    with s3_error("304", 304):
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified + day)
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified - day)["ContentLength"] == 11
    with s3_error("PreconditionFailed", 412):
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=modified - day)
    assert s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=modified + day)["ContentLength"] == 11
    # RFC 7232 / S3: If-Match true wins over If-Unmodified-Since false
    got = s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=modified - day)
    assert got["Body"].read() == b"conditional"
    # If-None-Match false wins over If-Modified-Since true: 304
    with s3_error("304", 304):
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=modified - day)
    with s3_error("412", 412):
        s3.head_object(Bucket=bucket, Key="c", IfMatch='"nope"')
    with s3_error("304", 304):
        s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag)


def test_copy_object_metadata_directives(s3: Any, bucket: str) -> None:
    src_key = "src/spaced name ü.txt"
    data = b"copy me " * 1000
    s3.put_object(Bucket=bucket, Key=src_key, Body=data, ContentType="text/plain", Metadata={"a": "1"})
    source = {"Bucket": bucket, "Key": src_key}

    copied = s3.copy_object(CopySource=source, Bucket=bucket, Key="dst/copy.txt")
    assert copied["CopyObjectResult"]["ETag"] == md5_etag(data)
    head = s3.head_object(Bucket=bucket, Key="dst/copy.txt")
    assert (head["ContentType"], head["Metadata"]) == ("text/plain", {"a": "1"})
    assert read_body(s3, bucket, "dst/copy.txt") == data

    s3.copy_object(
        CopySource=source,
        Bucket=bucket,
        Key="dst/replaced.txt",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="application/x-new",
    )
    head = s3.head_object(Bucket=bucket, Key="dst/replaced.txt")
    assert (head["ContentType"], head["Metadata"]) == ("application/x-new", {"b": "2"})
    assert read_body(s3, bucket, "dst/replaced.txt") == data

    # copying onto itself is allowed when the metadata is replaced
    s3.copy_object(
        CopySource=source, Bucket=bucket, Key=src_key, MetadataDirective="REPLACE", Metadata={"c": "3"}
    )
    assert s3.head_object(Bucket=bucket, Key=src_key)["Metadata"] == {"c": "3"}
    assert read_body(s3, bucket, src_key) == data

    other = create_bucket(s3)
    try:
        s3.copy_object(CopySource=source, Bucket=other, Key="x")
        assert read_body(s3, other, "x") == data
    finally:
        delete_bucket(s3, other)


def test_delete_object_is_idempotent(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="gone")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with s3_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="gone")
    assert s3.delete_object(Bucket=bucket, Key="gone")["ResponseMetadata"]["HTTPStatusCode"] == 204


# ---- listing -----------------------------------------------------------------------------------

KEYS = ["a/1.txt", "a/2.txt", "a/b/3.txt", "c.txt", "d/4.txt", "e f/ü+x.txt", "z"]


@pytest.fixture
def listed_bucket(s3: Any, bucket: str) -> str:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def _collect(pages: Any) -> tuple[list[str], list[str], int]:
    keys: list[str] = []
    prefixes: list[str] = []
    n = 0
    for page in pages:
        n += 1
        keys.extend(o["Key"] for o in page.get("Contents", []))
        prefixes.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
    return keys, prefixes, n


def test_list_objects_v2(s3: Any, listed_bucket: str) -> None:
    b = listed_bucket
    everything = s3.list_objects_v2(Bucket=b)
    assert [o["Key"] for o in everything["Contents"]] == sorted(KEYS)
    assert everything["KeyCount"] == len(KEYS) and everything["IsTruncated"] is False
    first = everything["Contents"][0]
    assert first["Size"] == len(b"a/1.txt") and first["ETag"] == md5_etag(b"a/1.txt")
    assert first["StorageClass"] == "STANDARD"

    paginator = s3.get_paginator("list_objects_v2")
    keys, _, pages = _collect(paginator.paginate(Bucket=b, PaginationConfig={"PageSize": 2}))
    assert keys == sorted(KEYS) and pages == 4
    page1 = s3.list_objects_v2(Bucket=b, MaxKeys=2)
    assert page1["IsTruncated"] is True and page1["KeyCount"] == 2 and page1["NextContinuationToken"]

    top = s3.list_objects_v2(Bucket=b, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["c.txt", "z"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "d/", "e f/"]
    assert top["KeyCount"] == 5

    sub = s3.list_objects_v2(Bucket=b, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in sub["Contents"]] == ["a/1.txt", "a/2.txt"]
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["a/b/"]

    keys, prefixes, pages = _collect(
        paginator.paginate(Bucket=b, Delimiter="/", PaginationConfig={"PageSize": 1})
    )
    assert (keys, prefixes, pages) == (["c.txt", "z"], ["a/", "d/", "e f/"], 5)

    assert "Owner" not in first  # ListObjectsV2 leaves the owner out unless asked
    owned = s3.list_objects_v2(Bucket=b, FetchOwner=True)["Contents"][0]
    assert owned["Owner"]["ID"]
    assert s3.list_objects(Bucket=b)["Contents"][0]["Owner"]["ID"] == owned["Owner"]["ID"]

    after = s3.list_objects_v2(Bucket=b, StartAfter="a/b/3.txt")
    assert [o["Key"] for o in after["Contents"]] == sorted(KEYS)[3:]
    assert s3.list_objects_v2(Bucket=b, Prefix="nothing/").get("Contents", []) == []


def test_list_objects_v1(s3: Any, listed_bucket: str) -> None:
    b = listed_bucket
    paginator = s3.get_paginator("list_objects")  # boto3 adds encoding-type=url and decodes
    keys, _, pages = _collect(paginator.paginate(Bucket=b, PaginationConfig={"PageSize": 3}))
    assert keys == sorted(KEYS) and pages == 3
    keys, prefixes, _ = _collect(
        paginator.paginate(Bucket=b, Delimiter="/", PaginationConfig={"PageSize": 1})
    )
    assert (keys, prefixes) == (["c.txt", "z"], ["a/", "d/", "e f/"])
    page = s3.list_objects(Bucket=b, MaxKeys=2, Delimiter="/")
    assert page["IsTruncated"] is True and page["NextMarker"] == "c.txt"  # "a/", "c.txt"
    rest = s3.list_objects(Bucket=b, Marker="c.txt")
    assert [o["Key"] for o in rest["Contents"]] == ["d/4.txt", "e f/ü+x.txt", "z"]


# ---- batch delete, tagging, policy ------------------------------------------------------------------


def test_delete_objects_with_crc32_header(s3: Any, bucket: str) -> None:
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    recorder = Recorder(s3)
    resp = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "k0"}, {"Key": "k1"}, {"Key": "never"}]}
    )
    sent = [h for m, u, h in recorder.requests if m == "POST" and "delete" in u]
    assert sent and "x-amz-checksum-crc32" in sent[-1] and "content-md5" not in sent[-1]
    assert {d["Key"] for d in resp["Deleted"]} == {"k0", "k1", "never"}
    assert "Errors" not in resp
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k2"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert list_keys(s3, bucket) == ["k3", "k4"]


def test_object_tagging(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="project=demo&team=ml%20ops")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted(tags, key=lambda t: t["Key"]) == [
        {"Key": "project", "Value": "demo"},
        {"Key": "team", "Value": "ml ops"},
    ]
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    s3.copy_object(CopySource={"Bucket": bucket, "Key": "t"}, Bucket=bucket, Key="t2")
    assert len(s3.get_object_tagging(Bucket=bucket, Key="t2")["TagSet"]) == 2  # TaggingDirective COPY

    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "only", "Value": "one"}]
    assert s3.delete_object_tagging(Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="t")


def test_bucket_tagging(s3: Any, bucket: str) -> None:
    with s3_error("NoSuchTagSet", 404):
        s3.get_bucket_tagging(Bucket=bucket)
    tagset = [{"Key": "env", "Value": "test"}, {"Key": "cost-center", "Value": "42"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset})
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert sorted(got, key=lambda t: t["Key"]) == sorted(tagset, key=lambda t: t["Key"])
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with s3_error("NoSuchTagSet", 404):
        s3.get_bucket_tagging(Bucket=bucket)


def _policy(bucket: str, **statement: Any) -> str:
    stmt = {
        "Sid": "ReadOnly",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    } | statement
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]})


@pytest.mark.parametrize(
    "bad",
    [
        "this is not json",
        '{"Version": "2012-10-17"}',
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}',
        "[1, 2, 3]",
    ],
    ids=["not-json", "no-statement", "no-principal-no-resource", "not-an-object"],
)
def test_malformed_bucket_policy(s3: Any, bucket: str, bad: str) -> None:
    good = _policy(bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=good)
    with s3_error("MalformedPolicy", 400):
        s3.put_bucket_policy(Bucket=bucket, Policy=bad)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(good)


def test_bucket_policy_put_get_delete(s3: Any, bucket: str) -> None:
    with s3_error("NoSuchBucketPolicy", 404):
        s3.get_bucket_policy(Bucket=bucket)
    policy = _policy(bucket)
    assert s3.put_bucket_policy(Bucket=bucket, Policy=policy)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(policy)
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with s3_error("NoSuchBucketPolicy", 404):
        s3.get_bucket_policy(Bucket=bucket)


def test_resource_api(aws: AwsClients, s3: Any) -> None:
    resource = aws.session.resource(
        "s3", endpoint_url=aws.server.endpoint_url, config=Config(retries={"max_attempts": 1})
    )
    name = unique_bucket("res")
    bucket = resource.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": aws.server.region}
    )
    assert bucket.creation_date is not None  # boto3 reads ListBuckets, as the SageMaker SDK does
    bucket.put_object(Key="p/one.txt", Body=b"one", Metadata={"k": "v"})
    bucket.put_object(Key="p/two.txt", Body=b"two")
    bucket.put_object(Key="q.txt", Body=b"q")
    obj = resource.Object(name, "p/one.txt")
    assert (obj.content_length, obj.metadata, obj.e_tag) == (3, {"k": "v"}, md5_etag(b"one"))
    assert obj.get()["Body"].read() == b"one"
    assert sorted(o.key for o in bucket.objects.filter(Prefix="p/")) == ["p/one.txt", "p/two.txt"]
    bucket.objects.all().delete()
    assert list(bucket.objects.all()) == []
    bucket.delete()
    assert name not in bucket_names(s3)


# ---- addressing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["s3.localhost", "localhost"])
def test_virtual_hosted_style(
    aws: AwsClients, s3: Any, bucket: str, host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`<bucket>.s3.localhost:<port>` and `<bucket>.localhost:<port>`, as botocore sends them with
    addressing_style='virtual' (resolved to loopback here: the test machine has no wildcard DNS)."""
    real_getaddrinfo = socket.getaddrinfo

    def loopback(name: str, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo("127.0.0.1" if name.endswith("localhost") else name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback)
    virtual = aws.session.client(
        "s3",
        endpoint_url=f"http://{host}:{aws.server.port}",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "virtual"}),
    )
    recorder = Recorder(virtual)
    virtual.put_object(Bucket=bucket, Key="dir/v.txt", Body=b"virtual")
    assert recorder.requests[-1][1] == f"http://{bucket}.{host}:{aws.server.port}/dir/v.txt"
    assert virtual.get_object(Bucket=bucket, Key="dir/v.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in virtual.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/v.txt"]
    assert virtual.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert read_body(s3, bucket, "dir/v.txt") == b"virtual"  # the same object, path style
    virtual.delete_object(Bucket=bucket, Key="dir/v.txt")
    assert list_keys(s3, bucket) == []
