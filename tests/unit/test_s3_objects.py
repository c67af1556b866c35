"""S3 objects: put/get/head/delete, ranges, conditions, metadata, checksums, awkward keys."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sagelocal.blobs.spool import new_checksum
from tests.unit.s3_support import S3, blob_files, make_ctx, new_s3, tmp_files


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3]:
    yield from new_s3(tmp_path)


DATA = b"0123456789abcdefghij"  # 20 bytes
PAST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE = datetime.now(UTC) + timedelta(days=1)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checksum(algorithm: str, data: bytes) -> str:
    h = new_checksum(algorithm)
    h.update(data)
    return b64(h.digest())


@pytest.fixture
def obj(s3: S3) -> dict:
    s3.bucket()
    return s3.put("k", DATA)


def test_put_get_head_delete_roundtrip(s3: S3) -> None:
    s3.bucket()
    out = s3.put(
        "dir/file.csv",
        b"a,b\n1,2\n",
        ContentType="text/csv",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="f.csv"',
        ContentLanguage="en",
        CacheControl="no-cache",
        Expires=datetime(2030, 1, 1, tzinfo=UTC),
        Metadata={"Owner": "me", "x": "1"},
    )
    digest = hashlib.md5(b"a,b\n1,2\n").hexdigest()
    assert out["ETag"] == f'"{digest}"'
    got = s3.get("dir/file.csv")
    assert got["Body"] == b"a,b\n1,2\n" and got["ContentLength"] == 8 and got["ETag"] == out["ETag"]
    assert got["ContentType"] == "text/csv" and got["ContentEncoding"] == "identity"
    assert got["ContentDisposition"] == 'attachment; filename="f.csv"' and got["ContentLanguage"] == "en"
    assert got["CacheControl"] == "no-cache" and got["Expires"] == datetime(2030, 1, 1, tzinfo=UTC)
    assert got["Metadata"] == {"owner": "me", "x": "1"} and got["AcceptRanges"] == "bytes"
    assert got["LastModified"].tzinfo is not None and "ContentRange" not in got
    head = s3("HeadObject", Bucket="bkt", Key="dir/file.csv")
    assert "Body" not in head and head["ContentLength"] == 8 and head["Metadata"] == got["Metadata"]
    assert s3("DeleteObject", Bucket="bkt", Key="dir/file.csv") == {}
    assert s3("DeleteObject", Bucket="bkt", Key="dir/file.csv") == {}  # idempotent
    err = s3.error("NoSuchKey", "GetObject", Bucket="bkt", Key="dir/file.csv")
    assert (err.status, err.message, err.fields) == (
        404,
        "The specified key does not exist.",
        {"Key": "dir/file.csv"},
    )
    s3.error("NoSuchKey", "HeadObject", Bucket="bkt", Key="dir/file.csv")
    assert blob_files(s3.provider) == set()


def test_defaults_overwrite_and_overrides(s3: S3) -> None:
    s3.bucket()
    s3.put("k", b"one")
    s3.put("k", b"two!", Metadata={"a": "b"})
    got = s3.get(
        "k",
        ResponseContentType="application/json",
        ResponseContentDisposition="inline",
        ResponseCacheControl="max-age=1",
        ResponseContentLanguage="fr",
        ResponseContentEncoding="gzip",
        ResponseExpires=datetime(2031, 1, 1, tzinfo=UTC),
    )
    assert got["Body"] == b"two!" and got["Metadata"] == {"a": "b"}
    assert got["ContentType"] == "application/json" and got["ContentDisposition"] == "inline"
    assert (
        got["CacheControl"] == "max-age=1"
        and got["ContentLanguage"] == "fr"
        and got["ContentEncoding"] == "gzip"
    )
    assert got["Expires"] == datetime(2031, 1, 1, tzinfo=UTC)
    assert s3.get("k")["ContentType"] == "binary/octet-stream"
    assert len(blob_files(s3.provider)) == 1  # the replaced blob is gone


def test_empty_object(s3: S3) -> None:
    s3.bucket()
    assert s3.put("empty", b"")["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    assert s3.get("empty")["Body"] == b""
    s3.error("InvalidRange", "GetObject", Bucket="bkt", Key="empty", Range="bytes=0-")


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        ("bytes=0-4", DATA[0:5], "bytes 0-4/20"),
        ("bytes=5-", DATA[5:], "bytes 5-19/20"),
        ("bytes=-3", DATA[-3:], "bytes 17-19/20"),
        ("bytes=15-100", DATA[15:], "bytes 15-19/20"),
        ("bytes=-100", DATA, "bytes 0-19/20"),
        ("bytes=19-19", DATA[19:], "bytes 19-19/20"),
        ("bytes=5-2", DATA, None),  # malformed: ignored
        ("bytes=0-1,4-5", DATA, None),  # several ranges: ignored
        ("items=0-1", DATA, None),
    ],
)
def test_ranges(s3: S3, obj: dict, header: str, body: bytes, content_range: str | None) -> None:
    got = s3.get("k", Range=header)
    assert got["Body"] == body and got["ContentLength"] == len(body)
    assert got.get("ContentRange") == content_range
    head = s3("HeadObject", Bucket="bkt", Key="k", Range=header)
    assert head["ContentLength"] == len(body) and head.get("ContentRange") == content_range


@pytest.mark.parametrize("header", ["bytes=20-", "bytes=25-30", "bytes=-0"])
def test_unsatisfiable_range(s3: S3, obj: dict, header: str) -> None:
    err = s3.error("InvalidRange", "GetObject", Bucket="bkt", Key="k", Range=header)
    assert err.status == 416 and err.message == "The requested range is not satisfiable"
    assert err.fields == {"RangeRequested": header, "ActualObjectSize": 20}
    assert err.headers["Content-Range"] == "bytes */20"


def test_conditions(s3: S3, obj: dict) -> None:
    etag = obj["ETag"]
    for op in ("GetObject", "HeadObject"):
        get = {"Bucket": "bkt", "Key": "k"}
        assert s3(op, **get, IfMatch=etag)["ETag"] == etag
        assert s3(op, **get, IfMatch=etag.strip('"'))["ETag"] == etag  # unquoted works
        assert s3(op, **get, IfMatch='"other", ' + etag)["ETag"] == etag
        assert s3(op, **get, IfMatch="*")["ETag"] == etag
        err = s3.error("PreconditionFailed", op, **get, IfMatch='"nope"')
        assert err.status == 412 and err.fields == {"Condition": "If-Match"}
        assert err.message == "At least one of the pre-conditions you specified did not hold"
        err = s3.error("NotModified", op, **get, IfNoneMatch=etag)
        assert err.status == 304 and err.headers["ETag"] == etag and "Last-Modified" in err.headers
        s3(op, **get, IfNoneMatch='"nope"')
        s3(op, **get, IfModifiedSince=PAST)
        s3.error("NotModified", op, **get, IfModifiedSince=FUTURE)
        s3(op, **get, IfUnmodifiedSince=FUTURE)
        err = s3.error("PreconditionFailed", op, **get, IfUnmodifiedSince=PAST)
        assert err.fields == {"Condition": "If-Unmodified-Since"}
        # precedence: If-Match true wins over If-Unmodified-Since false
        s3(op, **get, IfMatch=etag, IfUnmodifiedSince=PAST)
        # If-None-Match false (it matches) with If-Modified-Since true → 304
        s3.error("NotModified", op, **get, IfNoneMatch=etag, IfModifiedSince=PAST)
        # If-None-Match true wins over If-Modified-Since false
        s3(op, **get, IfNoneMatch='"nope"', IfModifiedSince=FUTURE)
        # If-Match failing is 412 even when If-None-Match would give 304
        s3.error("PreconditionFailed", op, **get, IfMatch='"nope"', IfNoneMatch=etag)


def test_if_modified_since_compares_whole_seconds(s3: S3, obj: dict) -> None:
    lm = s3("HeadObject", Bucket="bkt", Key="k")["LastModified"].replace(microsecond=0)
    s3.error("NotModified", "GetObject", Bucket="bkt", Key="k", IfModifiedSince=lm)
    s3("GetObject", Bucket="bkt", Key="k", IfUnmodifiedSince=lm)


def test_conditional_put(s3: S3, obj: dict) -> None:
    err = s3.error("PreconditionFailed", "PutObject", Bucket="bkt", Key="k", Body=b"x", IfNoneMatch="*")
    assert err.fields == {"Condition": "If-None-Match"}
    s3.put("new", b"x", IfNoneMatch="*")
    s3.error("PreconditionFailed", "PutObject", Bucket="bkt", Key="k", Body=b"x", IfMatch='"bad"')
    s3.error("NoSuchKey", "PutObject", Bucket="bkt", Key="absent", Body=b"x", IfMatch='"bad"')
    s3.put("k", b"y", IfMatch=obj["ETag"])
    assert s3.get("k")["Body"] == b"y"


def _assert_unchanged(s3: S3, before: set[str]) -> None:
    assert s3.get("k")["Body"] == DATA
    assert blob_files(s3.provider) == before
    assert tmp_files(s3.provider) == []


def test_content_md5(s3: S3, obj: dict) -> None:
    before = blob_files(s3.provider)
    err = s3.error(
        "BadDigest",
        "PutObject",
        Bucket="bkt",
        Key="k",
        Body=b"other",
        ContentMD5=b64(hashlib.md5(b"x").digest()),
    )
    assert err.message == "The Content-MD5 you specified did not match what we received."
    err = s3.error("InvalidDigest", "PutObject", Bucket="bkt", Key="k", Body=b"other", ContentMD5="not-md5")
    assert err.status == 400
    _assert_unchanged(s3, before)
    s3.put("k2", b"other", ContentMD5=b64(hashlib.md5(b"other").digest()))


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_flexible_checksums(s3: S3, obj: dict, algorithm: str) -> None:
    before = blob_files(s3.provider)
    wrong = checksum(algorithm, b"something else")
    err = s3.error(
        "BadDigest", "PutObject", Bucket="bkt", Key="k", Body=b"new", **{f"Checksum{algorithm}": wrong}
    )
    assert err.message == f"The {algorithm} you specified did not match the calculated checksum."
    _assert_unchanged(s3, before)
    good = checksum(algorithm, b"new")
    out = s3.put("k", b"new", **{f"Checksum{algorithm}": good})
    assert out[f"Checksum{algorithm}"] == good and out["ChecksumType"] == "FULL_OBJECT"
    got = s3.get("k", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == good and got["ChecksumType"] == "FULL_OBJECT"
    assert f"Checksum{algorithm}" not in s3.get("k")  # only with ChecksumMode
    assert f"Checksum{algorithm}" not in s3.get("k", ChecksumMode="ENABLED", Range="bytes=0-1")


def test_checksum_in_trailer_and_algorithm_only(s3: S3, obj: dict) -> None:
    body = s3.spool(b"trailed")
    body.trailers = {"x-amz-checksum-crc32": checksum("CRC32", b"different")}
    s3.error("BadDigest", "PutObject", Bucket="bkt", Key="k", Body=body)
    assert s3.get("k")["Body"] == DATA
    body = s3.spool(b"trailed")
    body.trailers = {"x-amz-checksum-crc32": checksum("CRC32", b"trailed")}
    s3("PutObject", Bucket="bkt", Key="k", Body=body)
    # x-amz-sdk-checksum-algorithm alone: S3 computes and stores it; a bytes body is spooled here
    out = s3.provider.put_object(
        make_ctx(),
        {"Bucket": "bkt", "Key": "c", "Body": b"abc", "ChecksumAlgorithm": "CRC32"},
    )
    assert out["ChecksumCRC32"] == b64(zlib.crc32(b"abc").to_bytes(4, "big"))
    err = s3.error("InvalidRequest", "PutObject", Bucket="bkt", Key="k", Body=b"x", ChecksumCRC32="AAA")
    assert "x-amz-checksum-crc32" in err.message
    s3.error(
        "InvalidRequest",
        "PutObject",
        Bucket="bkt",
        Key="k",
        Body=b"x",
        ChecksumCRC32=checksum("CRC32", b"x"),
        ChecksumSHA1=checksum("SHA1", b"x"),
    )


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/leading/slash",
        "a/../../b",
        "with space",
        "ünïcödé/日本語.txt",
        "..",
        "a//b",
        "x" * 1024,
        "é" * 512,
        "tab\tand\nnewline",
        "%2F%2e%2e",
    ],
)
def test_awkward_keys_stay_inside_the_store(s3: S3, key: str) -> None:
    s3.bucket()
    s3.put(key, b"payload")
    assert s3.get(key)["Body"] == b"payload"
    listed = s3("ListObjectsV2", Bucket="bkt")["Contents"]
    assert [c["Key"] for c in listed] == [key]
    root = s3.provider.blobs.root
    files = [p for p in root.parent.rglob("*") if p.is_file() and p.suffix != ".db" and "t.db" not in p.name]
    assert all(root in p.parents for p in files)
    assert all(len(p.name) == 32 for p in files)


def test_key_too_long(s3: S3) -> None:
    s3.bucket()
    for key in ("x" * 1025, "é" * 513):
        err = s3.error("KeyTooLongError", "PutObject", Bucket="bkt", Key=key, Body=b"x")
        assert err.message == "Your key is too long" and err.fields["MaxSizeAllowed"] == 1024
    assert tmp_files(s3.provider) == [] and blob_files(s3.provider) == set()


def test_metadata_limits_and_tagging_header(s3: S3) -> None:
    s3.bucket()
    s3.error("MetadataTooLarge", "PutObject", Bucket="bkt", Key="k", Body=b"x", Metadata={"big": "v" * 2100})
    s3.error(
        "BadRequest",
        "PutObject",
        Bucket="bkt",
        Key="k",
        Body=b"x",
        Tagging="&".join(f"k{i}=v" for i in range(11)),
    )
    s3.put("k", b"x", Tagging="team=ml&note=a%20b")
    assert s3.get("k")["TagCount"] == 2
    assert s3("GetObjectTagging", Bucket="bkt", Key="k")["TagSet"] == [
        {"Key": "team", "Value": "ml"},
        {"Key": "note", "Value": "a b"},
    ]
    s3.error("InvalidStorageClass", "PutObject", Bucket="bkt", Key="k", Body=b"x", StorageClass="BOGUS")
    s3.put("cold", b"x", StorageClass="STANDARD_IA")
    assert s3("HeadObject", Bucket="bkt", Key="cold")["StorageClass"] == "STANDARD_IA"


def test_put_to_missing_bucket_leaves_nothing(s3: S3) -> None:
    s3.error("NoSuchBucket", "PutObject", Bucket="nobucket", Key="k", Body=b"x")
    assert tmp_files(s3.provider) == [] and blob_files(s3.provider) == set()


def test_part_number_of_single_part_object(s3: S3, obj: dict) -> None:
    got = s3.get("k", PartNumber=1)
    assert got["Body"] == DATA and got["PartsCount"] == 1
    s3.error("InvalidPartNumber", "GetObject", Bucket="bkt", Key="k", PartNumber=2)
    s3.error("InvalidRequest", "GetObject", Bucket="bkt", Key="k", PartNumber=1, Range="bytes=0-1")


def test_version_ids(s3: S3, obj: dict) -> None:
    assert s3.get("k", VersionId="null")["Body"] == DATA
    s3.error("InvalidArgument", "GetObject", Bucket="bkt", Key="k", VersionId="abc")


def test_delete_objects(s3: S3) -> None:
    s3.bucket()
    for k in ("a", "b", "c"):
        s3.put(k)
    out = s3(
        "DeleteObjects",
        Bucket="bkt",
        Delete={"Objects": [{"Key": "a"}, {"Key": "zz"}, {"Key": "b", "VersionId": "v1"}]},
    )
    assert out["Deleted"] == [{"Key": "a"}, {"Key": "zz"}]
    assert out["Errors"][0]["Key"] == "b" and out["Errors"][0]["Code"] == "NoSuchVersion"
    out = s3("DeleteObjects", Bucket="bkt", Delete={"Objects": [{"Key": "b"}, {"Key": "c"}], "Quiet": True})
    assert out == {}
    assert "Contents" not in s3("ListObjectsV2", Bucket="bkt")
    assert blob_files(s3.provider) == set()
    s3.error(
        "MalformedXML",
        "DeleteObjects",
        Bucket="bkt",
        Delete={"Objects": [{"Key": str(i)} for i in range(1001)]},
    )
    s3.error("NoSuchBucket", "DeleteObjects", Bucket="nob", Delete={"Objects": [{"Key": "a"}]})


def test_conditional_delete(s3: S3, obj: dict) -> None:
    s3.error("PreconditionFailed", "DeleteObject", Bucket="bkt", Key="k", IfMatch='"nope"')
    s3("DeleteObject", Bucket="bkt", Key="k", IfMatch=obj["ETag"])
    s3.error("NoSuchKey", "DeleteObject", Bucket="bkt", Key="k", IfMatch=obj["ETag"])


def test_reads_survive_a_concurrent_overwrite(s3: S3, obj: dict) -> None:
    got = s3.provider.get_object(make_ctx(), {"Bucket": "bkt", "Key": "k"})
    s3.put("k", b"replaced")  # deletes the blob the open read holds
    assert b"".join(got["Body"]) == DATA
