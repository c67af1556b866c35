"""The S3 error matrix: AWS's code and HTTP status for each failure, and nothing stored changed by it."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from awscrt import checksums as crt

from tests.conftest import AwsClients
from tests.integration.s3_support import (
    MiB,
    bucket_names,
    crc32_b64,
    list_keys,
    md5_b64,
    md5_etag,
    random_bytes,
    raw_request,
    read_body,
    s3_error,
    unique_bucket,
)

BUCKET_PREFIX = "err"  # the shared `bucket` fixture (tests/integration/conftest.py) names buckets with it


OLD = b"the old, acknowledged bytes"


def _assert_old(s3: Any, bucket: str, key: str = "obj") -> None:
    got = s3.get_object(Bucket=bucket, Key=key)
    assert (got["Body"].read(), got["ETag"]) == (OLD, md5_etag(OLD)), "a failed request changed the object"


# ---- buckets -------------------------------------------------------------------------------------

MISSING_BUCKET_CALLS: dict[str, Callable[[Any, str], Any]] = {
    "GetObject": lambda s3, b: s3.get_object(Bucket=b, Key="k"),
    "PutObject": lambda s3, b: s3.put_object(Bucket=b, Key="k", Body=b"x"),
    "ListObjectsV2": lambda s3, b: s3.list_objects_v2(Bucket=b),
    "ListObjects": lambda s3, b: s3.list_objects(Bucket=b),
    "DeleteBucket": lambda s3, b: s3.delete_bucket(Bucket=b),
    "CreateMultipartUpload": lambda s3, b: s3.create_multipart_upload(Bucket=b, Key="k"),
    "GetBucketPolicy": lambda s3, b: s3.get_bucket_policy(Bucket=b),
    "PutObjectTagging": lambda s3, b: s3.put_object_tagging(
        Bucket=b, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
    ),
}


@pytest.mark.parametrize("operation", list(MISSING_BUCKET_CALLS))
def test_no_such_bucket(s3: Any, operation: str) -> None:
    name = unique_bucket("nob")
    with s3_error("NoSuchBucket", 404) as err:
        MISSING_BUCKET_CALLS[operation](s3, name)
    assert err.value.response["Error"].get("BucketName") == name
    assert name not in bucket_names(s3)


def test_bucket_not_empty(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    with s3_error("BucketNotEmpty", 409):
        s3.delete_bucket(Bucket=bucket)
    assert bucket in bucket_names(s3)
    _assert_old(s3, bucket)


BAD_NAMES = [
    "ab",
    "a" * 64,
    "UpperCase",
    "192.168.5.4",
    "a..b",
    "-leading",
    "trailing-",
    "under_score",
    "xn--punycode",
    "dot.-hyphen",
    "name-s3alias",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_invalid_bucket_name(s3: Any, name: str) -> None:
    with s3_error("InvalidBucketName", 400):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    assert name not in bucket_names(s3)


# ---- keys ------------------------------------------------------------------------------------------


def test_no_such_key(s3: Any, bucket: str) -> None:
    with s3_error("NoSuchKey", 404) as err:
        s3.get_object(Bucket=bucket, Key="dir/missing")
    assert err.value.response["Error"].get("Key") == "dir/missing"
    with s3_error("404", 404):
        s3.head_object(Bucket=bucket, Key="dir/missing")
    with s3_error("NoSuchKey", 404):
        s3.get_object_tagging(Bucket=bucket, Key="dir/missing")
    with s3_error("NoSuchKey", 404):
        s3.copy_object(CopySource={"Bucket": bucket, "Key": "dir/missing"}, Bucket=bucket, Key="copy")
    assert list_keys(s3, bucket) == []


def test_copy_onto_itself_without_changes_is_invalid(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD, Metadata={"m": "1"})
    with s3_error("InvalidRequest", 400):
        s3.copy_object(CopySource={"Bucket": bucket, "Key": "obj"}, Bucket=bucket, Key="obj")
    _assert_old(s3, bucket)
    assert s3.head_object(Bucket=bucket, Key="obj")["Metadata"] == {"m": "1"}


def test_key_too_long(s3: Any, bucket: str) -> None:
    longest = "é" * 512  # 1024 bytes of UTF-8: allowed
    s3.put_object(Bucket=bucket, Key=longest, Body=b"ok")
    assert read_body(s3, bucket, longest) == b"ok"
    for key in (longest + "x", "k" * 1025):
        with s3_error("KeyTooLongError", 400):
            s3.put_object(Bucket=bucket, Key=key, Body=b"too long")
    assert list_keys(s3, bucket) == [longest]


def test_more_than_ten_object_tags(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD, Tagging="a=1")
    eleven = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
    with s3_error("BadRequest", 400) as err:
        s3.put_object_tagging(Bucket=bucket, Key="obj", Tagging=eleven)
    assert err.value.response["Error"]["Message"] == "Object tags cannot be greater than 10"
    assert s3.get_object_tagging(Bucket=bucket, Key="obj")["TagSet"] == [{"Key": "a", "Value": "1"}]


def test_metadata_too_large(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    with s3_error("MetadataTooLarge", 400):
        s3.put_object(Bucket=bucket, Key="obj", Body=b"new", Metadata={"big": "x" * 2100})
    _assert_old(s3, bucket)


def test_invalid_continuation_token(s3: Any, bucket: str) -> None:
    with s3_error("InvalidArgument", 400):
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="not-a-token-we-gave")


def test_expected_bucket_owner_on_put(aws: AwsClients, s3: Any, bucket: str) -> None:
    """What upload_data sends for the SageMaker default bucket."""
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    account = str(aws.server.health()["account_id"])  # type: ignore[index]
    other = "111122223333" if account != "111122223333" else "444455556666"
    with s3_error("AccessDenied", 403):
        s3.put_object(Bucket=bucket, Key="obj", Body=b"new", ExpectedBucketOwner=other)
    _assert_old(s3, bucket)
    s3.put_object(Bucket=bucket, Key="obj2", Body=b"ok", ExpectedBucketOwner=account)
    assert read_body(s3, bucket, "obj2") == b"ok"


def test_unicode_keys_are_stored_byte_for_byte(s3: Any, bucket: str) -> None:
    """S3 does not normalise Unicode: NFC and NFD spellings are two keys."""
    nfc, nfd = "caf\u00e9/r\u00e9sum\u00e9.txt", "cafe\u0301/re\u0301sume\u0301.txt"
    s3.put_object(Bucket=bucket, Key=nfc, Body=b"nfc")
    s3.put_object(Bucket=bucket, Key=nfd, Body=b"nfd")
    assert list_keys(s3, bucket) == sorted([nfc, nfd])
    assert (read_body(s3, bucket, nfc), read_body(s3, bucket, nfd)) == (b"nfc", b"nfd")


TRAVERSAL_KEYS = [
    "../../etc/passwd-{m}",
    "a/../../b-{m}",
    "%2e%2e/%2e%2e/c-{m}",
    "..%2f..%2fd-{m}",
    "./e-{m}",
    "/leading-{m}",
    "double//slash-{m}",
    "back\\..\\..\\f-{m}",
    "..",
    "../",
    "spa ce/ünï/日本語-{m}",
]


def _entries_named(root: Path, marker: str) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        found += [Path(dirpath) / n for n in dirnames + filenames if marker in n]
    return found


def test_path_traversal_keys_are_ordinary_keys(aws: AwsClients, s3: Any, bucket: str) -> None:
    marker = uuid.uuid4().hex[:10]
    keys = [k.format(m=marker) for k in TRAVERSAL_KEYS]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert read_body(s3, bucket, key) == key.encode(), key
    assert list_keys(s3, bucket) == sorted(keys)

    # the same attempts sent raw, without any client-side normalising of the path
    raw = {
        f"/{bucket}/x/../../../raw1-{marker}": f"x/../../../raw1-{marker}",
        f"/{bucket}/%2e%2e/%2E%2E/raw2-{marker}": f"../../raw2-{marker}",
        f"/{bucket}/..%2F..%2Fraw3-{marker}": f"../../raw3-{marker}",
    }
    for path, key in raw.items():
        resp = raw_request(aws.server, "PUT", path, body=key.encode())
        assert resp.status == 200, (path, resp.status, resp.body[:300])
        assert read_body(s3, bucket, key) == key.encode(), key
        back = raw_request(aws.server, "GET", path)
        assert (back.status, back.body) == (200, key.encode())

    home = aws.server.home.resolve()
    escaped = [p for p in _entries_named(home.parent, marker)]
    assert escaped == [], f"a key became a path on disk: {escaped}"
    assert not Path(f"/etc/passwd-{marker}").exists()
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(list_keys(s3, bucket)) == sorted(raw.values())


# ---- digests and checksums -------------------------------------------------------------------------


def _digest(algorithm: str, data: bytes) -> str:
    if algorithm == "CRC32":
        return crc32_b64(data)
    if algorithm == "CRC32C":
        return base64.b64encode(crt.crc32c(data).to_bytes(4, "big")).decode()
    return base64.b64encode(hashlib.new(algorithm.lower(), data).digest()).decode()


def test_wrong_content_md5_is_bad_digest(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    with s3_error("BadDigest", 400):
        s3.put_object(Bucket=bucket, Key="obj", Body=b"new bytes", ContentMD5=md5_b64(b"other bytes"))
    with s3_error("InvalidDigest", 400):
        s3.put_object(Bucket=bucket, Key="obj", Body=b"new bytes", ContentMD5="not-an-md5")
    _assert_old(s3, bucket)
    s3.put_object(Bucket=bucket, Key="right", Body=b"new bytes", ContentMD5=md5_b64(b"new bytes"))
    assert read_body(s3, bucket, "right") == b"new bytes"


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_wrong_flexible_checksum_is_bad_digest(s3: Any, bucket: str, algorithm: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    wrong = {f"Checksum{algorithm}": _digest(algorithm, b"other bytes")}
    with s3_error("BadDigest", 400):
        s3.put_object(Bucket=bucket, Key="obj", Body=b"new bytes", **wrong)
    _assert_old(s3, bucket)
    right = {f"Checksum{algorithm}": _digest(algorithm, b"new bytes")}
    s3.put_object(Bucket=bucket, Key="obj", Body=b"new bytes", **right)
    head = s3.head_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == right[f"Checksum{algorithm}"]


def _aws_chunked(data: bytes, trailer_crc32: str) -> bytes:
    """An aws-chunked body with a CRC32 trailer, as SDKs send it over HTTPS."""
    return b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(data), data, trailer_crc32.encode())


@pytest.mark.parametrize(
    ("right", "encoding", "stored_encoding"),
    [(True, "aws-chunked", None), (True, "gzip,aws-chunked", "gzip"), (False, "aws-chunked", None)],
    ids=["right-trailer", "right-trailer-gzip", "wrong-trailer"],
)
def test_aws_chunked_trailer_checksum(
    aws: AwsClients, s3: Any, bucket: str, right: bool, encoding: str, stored_encoding: str | None
) -> None:
    """What SDKs send over HTTPS: an aws-chunked body whose CRC32 comes in a trailer."""
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    data = b"streamed with a trailing checksum\n" * 50
    crc = crc32_b64(data if right else b"something else")
    resp = raw_request(
        aws.server,
        "PUT",
        f"/{bucket}/obj",
        body=_aws_chunked(data, crc),
        headers={
            "Content-Encoding": encoding,
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-sdk-checksum-algorithm": "CRC32",
        },
        payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
    if not right:
        assert (resp.status, b"<Code>BadDigest</Code>" in resp.body) == (400, True), resp.body[:300]
        _assert_old(s3, bucket)
        return
    assert resp.status == 200, resp.body[:300]
    assert resp.headers["etag"] == md5_etag(data)
    head = s3.head_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert (head["ContentLength"], head["ChecksumCRC32"]) == (len(data), crc)
    assert read_body(s3, bucket, "obj") == data
    # aws-chunked is transport framing: S3 drops it from the stored Content-Encoding
    assert head.get("ContentEncoding") == stored_encoding


# ---- multipart -------------------------------------------------------------------------------------


@dataclass
class Upload:
    bucket: str
    key: str
    upload_id: str
    etags: dict[int, str]


@pytest.fixture
def upload(s3: Any, bucket: str) -> Upload:
    """An upload of `obj` (which already holds OLD) with two parts of 5 MiB, so either may come last."""
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="obj")["UploadId"]
    etags = {}
    for n, body in ((1, random_bytes(5 * MiB, seed=21)), (2, random_bytes(5 * MiB, seed=22))):
        etags[n] = s3.upload_part(Bucket=bucket, Key="obj", UploadId=uid, PartNumber=n, Body=body)["ETag"]
    return Upload(bucket, "obj", uid, etags)


def _complete(s3: Any, up: Upload, parts: list[tuple[int, str]]) -> Any:
    return s3.complete_multipart_upload(
        Bucket=up.bucket,
        Key=up.key,
        UploadId=up.upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]},
    )


def _assert_upload_intact(s3: Any, up: Upload) -> None:
    _assert_old(s3, up.bucket, up.key)
    parts = s3.list_parts(Bucket=up.bucket, Key=up.key, UploadId=up.upload_id)["Parts"]
    assert {p["PartNumber"]: p["ETag"] for p in parts} == up.etags


def test_entity_too_small(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="obj")["UploadId"]
    etags = {
        n: s3.upload_part(Bucket=bucket, Key="obj", UploadId=uid, PartNumber=n, Body=b"s" * 1024)["ETag"]
        for n in (1, 2)
    }
    up = Upload(bucket, "obj", uid, etags)
    with s3_error("EntityTooSmall", 400):
        _complete(s3, up, sorted(etags.items()))
    _assert_upload_intact(s3, up)


def test_invalid_part(s3: Any, upload: Upload) -> None:
    with s3_error("InvalidPart", 400):
        _complete(s3, upload, [(1, upload.etags[1]), (2, '"0123456789abcdef0123456789abcdef"')])
    with s3_error("InvalidPart", 400):
        _complete(s3, upload, [(1, upload.etags[1]), (3, upload.etags[2])])
    _assert_upload_intact(s3, upload)


def test_invalid_part_order(s3: Any, upload: Upload) -> None:
    with s3_error("InvalidPartOrder", 400):
        _complete(s3, upload, [(2, upload.etags[2]), (1, upload.etags[1])])
    _assert_upload_intact(s3, upload)
    done = _complete(s3, upload, [(1, upload.etags[1]), (2, upload.etags[2])])  # still completable
    assert done["ETag"].endswith('-2"')


def test_no_such_upload(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    bogus = "bogus-upload-id"
    with s3_error("NoSuchUpload", 404):
        s3.upload_part(Bucket=bucket, Key="obj", UploadId=bogus, PartNumber=1, Body=b"x")
    with s3_error("NoSuchUpload", 404):
        s3.list_parts(Bucket=bucket, Key="obj", UploadId=bogus)
    with s3_error("NoSuchUpload", 404):
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="obj",
            UploadId=bogus,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]},
        )
    with s3_error("NoSuchUpload", 404):
        s3.abort_multipart_upload(Bucket=bucket, Key="obj", UploadId=bogus)
    _assert_old(s3, bucket)


def test_wrong_part_checksum_is_bad_digest(s3: Any, upload: Upload) -> None:
    with s3_error("BadDigest", 400):
        s3.upload_part(
            Bucket=upload.bucket,
            Key=upload.key,
            UploadId=upload.upload_id,
            PartNumber=2,
            Body=b"replacement",
            ChecksumCRC32=crc32_b64(b"something else"),
        )
    _assert_upload_intact(s3, upload)


# ---- preconditions and ranges ----------------------------------------------------------------------


def test_precondition_failed(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    etag = md5_etag(OLD)
    with s3_error("PreconditionFailed", 412):
        s3.get_object(Bucket=bucket, Key="obj", IfMatch='"ffffffffffffffffffffffffffffffff"')
    with s3_error("PreconditionFailed", 412):
        s3.copy_object(
            CopySource={"Bucket": bucket, "Key": "obj"}, Bucket=bucket, Key="copy", CopySourceIfMatch='"f"'
        )
    with s3_error("PreconditionFailed", 412):
        s3.copy_object(
            CopySource={"Bucket": bucket, "Key": "obj"}, Bucket=bucket, Key="copy", CopySourceIfNoneMatch=etag
        )
    assert list_keys(s3, bucket) == ["obj"]
    _assert_old(s3, bucket)


def test_conditional_writes(s3: Any, bucket: str) -> None:
    """PutObject If-None-Match: * and If-Match (S3 conditional writes)."""
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    with s3_error("PreconditionFailed", 412):
        s3.put_object(Bucket=bucket, Key="obj", Body=b"clobber", IfNoneMatch="*")
    with s3_error("PreconditionFailed", 412):
        s3.put_object(Bucket=bucket, Key="obj", Body=b"clobber", IfMatch='"ffffffffffffffffffffffffffffffff"')
    _assert_old(s3, bucket)
    s3.put_object(Bucket=bucket, Key="fresh", Body=b"first", IfNoneMatch="*")
    s3.put_object(Bucket=bucket, Key="obj", Body=b"second", IfMatch=md5_etag(OLD))
    assert read_body(s3, bucket, "obj") == b"second"


def test_invalid_range(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    with s3_error("InvalidRange", 416):
        s3.get_object(Bucket=bucket, Key="obj", Range="bytes=100-200")
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    with s3_error("InvalidRange", 416):
        s3.get_object(Bucket=bucket, Key="empty", Range="bytes=0-0")
    # a Range header S3 cannot parse is ignored: the whole object, 200
    whole = s3.get_object(Bucket=bucket, Key="obj", Range="bytes=abc")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200 and whole["Body"].read() == OLD
    _assert_old(s3, bucket)


# ---- malformed request bodies --------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<Delete><Object><Key>obj</Key></Object>",
        b"not xml at all",
        b"<Delete><Object><Key>obj</Oops></Object></Delete>",
    ],
)
def test_malformed_xml_body_is_refused_and_changes_nothing(
    aws: AwsClients, s3: Any, bucket: str, body: bytes
) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=OLD)
    resp = raw_request(aws.server, "POST", f"/{bucket}?delete", body, headers={"Content-MD5": md5_b64(body)})
    assert resp.status == 400, resp.body
    assert b"<Code>MalformedXML</Code>" in resp.body
    _assert_old(s3, bucket)
