"""S3 CopyObject and multipart uploads."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.unit.s3_support import S3, MiB, blob_files, new_s3, tmp_files


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3]:
    yield from new_s3(tmp_path)


PAST = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def src(s3: S3) -> dict:
    s3.bucket()
    return s3.put(
        "src/ünï key", b"source bytes", ContentType="text/plain", Metadata={"m": "1"}, Tagging="t=1"
    )


# ---- CopyObject ---------------------------------------------------------------------------------


def test_copy_keeps_metadata_by_default(s3: S3, src: dict) -> None:
    out = s3(
        "CopyObject", Bucket="bkt", Key="dst", CopySource=quote("bkt/src/ünï key"), ContentType="ignored/x"
    )
    assert out["CopyObjectResult"]["ETag"] == src["ETag"]
    got = s3.get("dst")
    assert (
        got["Body"] == b"source bytes"
        and got["ContentType"] == "text/plain"
        and got["Metadata"] == {"m": "1"}
    )
    assert got["TagCount"] == 1


def test_copy_replace_directive_and_leading_slash(s3: S3, src: dict) -> None:
    s3(
        "CopyObject",
        Bucket="bkt",
        Key="dst",
        CopySource="/" + quote("bkt/src/ünï key"),
        MetadataDirective="REPLACE",
        ContentType="application/json",
        Metadata={"n": "2"},
        TaggingDirective="REPLACE",
        Tagging="a=b&c=d",
    )
    got = s3.get("dst")
    assert got["ContentType"] == "application/json" and got["Metadata"] == {"n": "2"} and got["TagCount"] == 2
    s3.error(
        "InvalidArgument",
        "CopyObject",
        Bucket="bkt",
        Key="dst",
        CopySource=quote("bkt/src/ünï key"),
        MetadataDirective="MERGE",
    )


def test_copy_to_itself(s3: S3, src: dict) -> None:
    err = s3.error(
        "InvalidRequest", "CopyObject", Bucket="bkt", Key="src/ünï key", CopySource=quote("bkt/src/ünï key")
    )
    assert "copy an object to itself without changing the object's metadata" in err.message
    s3(
        "CopyObject",
        Bucket="bkt",
        Key="src/ünï key",
        CopySource=quote("bkt/src/ünï key"),
        MetadataDirective="REPLACE",
        Metadata={"fresh": "yes"},
    )
    got = s3.get("src/ünï key")
    assert got["Body"] == b"source bytes" and got["Metadata"] == {"fresh": "yes"}
    assert len(blob_files(s3.provider)) == 1


def test_copy_source_conditions(s3: S3, src: dict) -> None:
    base = {"Bucket": "bkt", "Key": "dst", "CopySource": quote("bkt/src/ünï key")}
    s3("CopyObject", **base, CopySourceIfMatch=src["ETag"])
    err = s3.error("PreconditionFailed", "CopyObject", **base, CopySourceIfMatch='"x"')
    assert err.fields == {"Condition": "x-amz-copy-source-If-Match"}
    s3.error("PreconditionFailed", "CopyObject", **base, CopySourceIfNoneMatch=src["ETag"])
    s3.error("PreconditionFailed", "CopyObject", **base, CopySourceIfUnmodifiedSince=PAST)
    s3("CopyObject", **base, CopySourceIfModifiedSince=PAST)
    s3.error(
        "PreconditionFailed", "CopyObject", **base, CopySourceIfModifiedSince=datetime(2100, 1, 1, tzinfo=UTC)
    )
    s3("CopyObject", **base, CopySourceIfMatch=src["ETag"], CopySourceIfUnmodifiedSince=PAST)  # If-Match wins


def test_copy_errors(s3: S3, src: dict) -> None:
    s3.error("NoSuchKey", "CopyObject", Bucket="bkt", Key="dst", CopySource="bkt/absent")
    s3.error("NoSuchBucket", "CopyObject", Bucket="bkt", Key="dst", CopySource="nobucket/k")
    s3.error("NoSuchBucket", "CopyObject", Bucket="nobucket", Key="dst", CopySource=quote("bkt/src/ünï key"))
    s3.error("InvalidArgument", "CopyObject", Bucket="bkt", Key="dst", CopySource="bkt")
    s3.error("InvalidArgument", "CopyObject", Bucket="bkt", Key="dst", CopySource="bkt/k?versionId=abc")
    assert s3("CopyObject", Bucket="bkt", Key="v", CopySource=quote("bkt/src/ünï key") + "?versionId=null")


def test_copied_object_survives_source_delete(s3: S3, src: dict) -> None:
    s3("CopyObject", Bucket="bkt", Key="dst", CopySource=quote("bkt/src/ünï key"))
    s3("DeleteObject", Bucket="bkt", Key="src/ünï key")
    assert s3.get("dst")["Body"] == b"source bytes"


# ---- multipart ----------------------------------------------------------------------------------


def _upload(s3: S3, key: str = "big", **params: object) -> str:
    return s3("CreateMultipartUpload", Bucket="bkt", Key=key, **params)["UploadId"]


def _part(s3: S3, upload_id: str, n: int, data: bytes, key: str = "big", **params: object) -> dict:
    out = s3("UploadPart", Bucket="bkt", Key=key, UploadId=upload_id, PartNumber=n, Body=data, **params)
    return {
        "PartNumber": n,
        "ETag": out["ETag"],
        **{k: v for k, v in out.items() if k.startswith("Checksum")},
    }


def _complete(s3: S3, upload_id: str, parts: list[dict], key: str = "big", **params: object) -> dict:
    return s3(
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": parts},
        **params,
    )


def test_multipart_happy_path(s3: S3) -> None:
    s3.bucket()
    a, b, c = b"a" * (5 * MiB), b"b" * (5 * MiB + 3), b"tail"
    uid = _upload(s3, ContentType="text/csv", Metadata={"k": "v"}, Tagging="x=y")
    parts = [_part(s3, uid, 1, a), _part(s3, uid, 2, b), _part(s3, uid, 3, c)]
    out = _complete(s3, uid, parts)
    md5s = b"".join(hashlib.md5(x).digest() for x in (a, b, c))
    assert out["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert out["Bucket"] == "bkt" and out["Key"] == "big"
    got = s3.get("big")
    assert got["Body"] == a + b + c and got["ContentType"] == "text/csv" and got["Metadata"] == {"k": "v"}
    assert got["TagCount"] == 1 and got["ETag"] == out["ETag"]
    p2 = s3.get("big", PartNumber=2)
    assert (
        p2["Body"] == b
        and p2["PartsCount"] == 3
        and p2["ContentRange"] == f"bytes {5 * MiB}-{10 * MiB + 2}/{10 * MiB + 7}"
    )
    assert len(blob_files(s3.provider)) == 1 and tmp_files(s3.provider) == []
    s3.error("NoSuchUpload", "UploadPart", Bucket="bkt", Key="big", UploadId=uid, PartNumber=1, Body=b"x")
    err = s3.error(
        "NoSuchUpload",
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": parts},
    )
    assert err.status == 404 and err.fields == {"UploadId": uid}


def test_single_small_part_and_reuploaded_part(s3: S3) -> None:
    s3.bucket()
    uid = _upload(s3)
    _part(s3, uid, 1, b"first try")
    part = _part(s3, uid, 1, b"second")
    assert len(blob_files(s3.provider)) == 1  # the replaced part's blob is gone
    _complete(s3, uid, [part])
    assert s3.get("big")["Body"] == b"second"


def test_entity_too_small(s3: S3) -> None:
    s3.bucket()
    uid = _upload(s3)
    parts = [_part(s3, uid, 1, b"small"), _part(s3, uid, 2, b"last")]
    err = s3.error(
        "EntityTooSmall",
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": parts},
    )
    assert err.message == "Your proposed upload is smaller than the minimum allowed object size."
    assert err.fields["ProposedSize"] == 5 and err.fields["MinSizeAllowed"] == 5 * MiB
    s3.error("NoSuchKey", "HeadObject", Bucket="bkt", Key="big")
    assert s3("ListParts", Bucket="bkt", Key="big", UploadId=uid)["Parts"]  # the upload is intact


def test_invalid_part_and_order(s3: S3) -> None:
    s3.bucket()
    uid = _upload(s3)
    p1 = _part(s3, uid, 1, b"x" * (5 * MiB))
    p2 = _part(s3, uid, 2, b"y")
    s3.error(
        "InvalidPartOrder",
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": [p2, p1]},
    )
    s3.error(
        "InvalidPartOrder",
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": [p1, p1]},
    )
    err = s3.error(
        "InvalidPart",
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": [p1, {"PartNumber": 2, "ETag": '"0000"'}]},
    )
    assert err.fields["PartNumber"] == 2
    s3.error(
        "InvalidPart",
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": [p1, {"PartNumber": 3, "ETag": p2["ETag"]}]},
    )
    s3.error(
        "InvalidRequest",
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": []},
    )
    s3.error(
        "InvalidArgument", "UploadPart", Bucket="bkt", Key="big", UploadId=uid, PartNumber=10001, Body=b"x"
    )
    s3.error("InvalidArgument", "UploadPart", Bucket="bkt", Key="big", UploadId=uid, PartNumber=0, Body=b"x")
    s3.error("NoSuchUpload", "UploadPart", Bucket="bkt", Key="other", UploadId=uid, PartNumber=1, Body=b"x")
    # unquoted ETags in the request are fine
    _complete(s3, uid, [p1, {"PartNumber": 2, "ETag": p2["ETag"].strip('"')}])


def test_abort(s3: S3) -> None:
    s3.bucket()
    uid = _upload(s3)
    _part(s3, uid, 1, b"data")
    assert s3("AbortMultipartUpload", Bucket="bkt", Key="big", UploadId=uid) == {}
    assert blob_files(s3.provider) == set()
    s3.error("NoSuchUpload", "AbortMultipartUpload", Bucket="bkt", Key="big", UploadId=uid)
    s3.error("NoSuchUpload", "ListParts", Bucket="bkt", Key="big", UploadId=uid)
    s3.error("NoSuchUpload", "UploadPart", Bucket="bkt", Key="big", UploadId=uid, PartNumber=1, Body=b"x")


def test_list_parts_and_uploads(s3: S3) -> None:
    s3.bucket()
    uid = _upload(s3, ChecksumAlgorithm="SHA256")
    for n in (1, 2, 3):
        _part(s3, uid, n, bytes([n]) * 10)
    out = s3("ListParts", Bucket="bkt", Key="big", UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in out["Parts"]] == [1, 2] and out["IsTruncated"]
    assert (
        out["Parts"][0]["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"\x01" * 10).digest()).decode()
    )
    assert out["ChecksumAlgorithm"] == "SHA256" and out["ChecksumType"] == "COMPOSITE"
    out = s3("ListParts", Bucket="bkt", Key="big", UploadId=uid, PartNumberMarker=out["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in out["Parts"]] == [3] and not out["IsTruncated"]
    others = [_upload(s3, k) for k in ("a/1", "a/2", "b", "big")]
    out = s3("ListMultipartUploads", Bucket="bkt")
    assert [(u["Key"], u["UploadId"]) for u in out["Uploads"]] == [
        ("a/1", others[0]),
        ("a/2", others[1]),
        ("b", others[2]),
        ("big", uid),
        ("big", others[3]),
    ]
    out = s3("ListMultipartUploads", Bucket="bkt", Delimiter="/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/"] and len(out["Uploads"]) == 3
    page = s3("ListMultipartUploads", Bucket="bkt", MaxUploads=3)
    assert page["IsTruncated"] and page["NextKeyMarker"] == "b"
    rest = s3(
        "ListMultipartUploads",
        Bucket="bkt",
        KeyMarker=page["NextKeyMarker"],
        UploadIdMarker=page["NextUploadIdMarker"],
    )
    assert [u["UploadId"] for u in rest["Uploads"]] == [uid, others[3]]
    rest = s3("ListMultipartUploads", Bucket="bkt", KeyMarker="big", UploadIdMarker=uid)
    assert [u["UploadId"] for u in rest["Uploads"]] == [others[3]]


def test_checksums_composite_and_full_object(s3: S3) -> None:
    s3.bucket()
    a, b = b"a" * (5 * MiB), b"b" * 7

    def crc(x: bytes) -> str:
        return base64.b64encode(zlib.crc32(x).to_bytes(4, "big")).decode()

    uid = _upload(s3, ChecksumAlgorithm="CRC32")
    parts = [_part(s3, uid, 1, a, ChecksumCRC32=crc(a)), _part(s3, uid, 2, b)]  # part 2: computed by S3
    out = _complete(s3, uid, parts)
    expected = base64.b64encode(
        zlib.crc32(base64.b64decode(crc(a)) + base64.b64decode(crc(b))).to_bytes(4, "big")
    )
    assert out["ChecksumCRC32"] == f"{expected.decode()}-2" and out["ChecksumType"] == "COMPOSITE"
    uid = _upload(s3, "full", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    parts = [_part(s3, uid, 1, a, key="full"), _part(s3, uid, 2, b, key="full")]
    out = _complete(s3, uid, parts, key="full")
    assert out["ChecksumCRC32"] == crc(a + b) and out["ChecksumType"] == "FULL_OBJECT"
    got = s3.get("full", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == crc(a + b)
    s3.error(
        "BadDigest",
        "UploadPart",
        Bucket="bkt",
        Key="full",
        UploadId=_upload(s3, "full"),
        PartNumber=1,
        Body=b"x",
        ChecksumCRC32=crc(b"y"),
    )
    s3.error(
        "InvalidRequest",
        "CreateMultipartUpload",
        Bucket="bkt",
        Key="k",
        ChecksumAlgorithm="SHA256",
        ChecksumType="FULL_OBJECT",
    )
    uid = _upload(s3, "wrong", ChecksumAlgorithm="CRC32")
    p = _part(s3, uid, 1, b"z", key="wrong")
    s3.error(
        "InvalidPart",
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="wrong",
        UploadId=uid,
        MultipartUpload={"Parts": [{**p, "ChecksumCRC32": crc(b"q")}]},
    )


def test_upload_part_copy(s3: S3) -> None:
    s3.bucket()
    s3.put("source", b"0123456789" * (MiB // 2))  # 5 MiB
    uid = _upload(s3)
    out = s3("UploadPartCopy", Bucket="bkt", Key="big", UploadId=uid, PartNumber=1, CopySource="bkt/source")
    p1 = {"PartNumber": 1, "ETag": out["CopyPartResult"]["ETag"]}
    out = s3(
        "UploadPartCopy",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        PartNumber=2,
        CopySource="bkt/source",
        CopySourceRange="bytes=2-5",
    )
    assert out["CopyPartResult"]["ETag"] == f'"{hashlib.md5(b"2345").hexdigest()}"'
    p2 = {"PartNumber": 2, "ETag": out["CopyPartResult"]["ETag"]}
    _complete(s3, uid, [p1, p2])
    assert s3.get("big")["Body"] == b"0123456789" * (MiB // 2) + b"2345"
    uid = _upload(s3)
    for bad in ("bytes=5-2", "bytes=0-99999999", "0-3", "bytes=-3"):
        s3.error(
            "InvalidArgument",
            "UploadPartCopy",
            Bucket="bkt",
            Key="big",
            UploadId=uid,
            PartNumber=1,
            CopySource="bkt/source",
            CopySourceRange=bad,
        )
    s3.error(
        "PreconditionFailed",
        "UploadPartCopy",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        PartNumber=1,
        CopySource="bkt/source",
        CopySourceIfMatch='"x"',
    )
    s3.error(
        "NoSuchKey",
        "UploadPartCopy",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        PartNumber=1,
        CopySource="bkt/none",
    )


def test_complete_replaces_existing_object_and_honours_if_none_match(s3: S3) -> None:
    s3.bucket()
    s3.put("big", b"old")
    uid = _upload(s3)
    p = _part(s3, uid, 1, b"new")
    s3.error(
        "PreconditionFailed",
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": [p]},
        IfNoneMatch="*",
    )
    assert s3.get("big")["Body"] == b"old"
    assert tmp_files(s3.provider) == []
    _complete(s3, uid, [p])
    assert s3.get("big")["Body"] == b"new" and len(blob_files(s3.provider)) == 1
