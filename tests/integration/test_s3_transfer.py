"""Multipart uploads (low level) and boto3's managed transfers (s3transfer) with their checksums."""

from __future__ import annotations

import hashlib
import io
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AwsClients
from tests.integration.s3_support import (
    MiB,
    Recorder,
    crc32_b64,
    md5_etag,
    multipart_etag,
    random_bytes,
    read_body,
    s3_error,
    sha256_file,
    write_random_file,
)

BUCKET_PREFIX = "mp"  # the shared `bucket` fixture (tests/integration/conftest.py) names buckets with it


def test_multipart_upload_low_level(s3: Any, bucket: str) -> None:
    source = random_bytes(6 * MiB, seed=1)
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/x-mp", Metadata={"m": "1"})
    uid = up["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [("mp", uid)]

    p1, p3 = random_bytes(5 * MiB, seed=2), b"tail" * 25
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    copy = s3.upload_part_copy(
        Bucket=bucket,
        Key="mp",
        UploadId=uid,
        PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "source"},
        CopySourceRange=f"bytes=0-{5 * MiB - 1}",
    )
    e2 = copy["CopyPartResult"]["ETag"]
    e3 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=3, Body=p3)["ETag"]
    assert (e1, e2, e3) == (md5_etag(p1), md5_etag(source[: 5 * MiB]), md5_etag(p3))

    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [
        (1, 5 * MiB, e1),
        (2, 5 * MiB, e2),
        (3, 100, e3),
    ]
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in ((1, e1), (2, e2), (3, e3))]},
    )
    expected = p1 + source[: 5 * MiB] + p3
    assert done["ETag"] == multipart_etag([p1, source[: 5 * MiB], p3])
    head = s3.head_object(Bucket=bucket, Key="mp")
    assert head["ETag"] == done["ETag"] and head["ContentLength"] == len(expected)
    assert (head["ContentType"], head["Metadata"]) == ("text/x-mp", {"m": "1"})
    assert read_body(s3, bucket, "mp") == expected
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    aborted = s3.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="ab", UploadId=aborted, PartNumber=1, Body=b"x")
    assert (
        s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=aborted)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    with s3_error("NoSuchUpload", 404):
        s3.list_parts(Bucket=bucket, Key="ab", UploadId=aborted)
    with s3_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="ab")


def test_upload_file_download_file_multipart_with_checksums(
    aws: AwsClients, s3: Any, bucket: str, tmp_path: Path
) -> None:
    src = tmp_path / "big.bin"
    size = 20 * MiB + 123
    digest = write_random_file(src, size, seed=3)
    recorder = Recorder(s3)
    s3.upload_file(str(src), bucket, "big/file.bin")

    parts = [(u, h) for m, u, h in recorder.requests if m == "PUT" and "partNumber=" in u]
    assert len(parts) == 3, "upload_file should switch to multipart (8 MiB parts) above 8 MB"
    assert all("x-amz-checksum-crc32" in h for _, h in parts)
    data = src.read_bytes()
    chunks = [data[i : i + 8 * MiB] for i in range(0, size, 8 * MiB)]
    head = s3.head_object(Bucket=bucket, Key="big/file.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == size
    assert head["ETag"] == multipart_etag(chunks)
    crcs = b"".join(zlib.crc32(c).to_bytes(4, "big") for c in chunks)
    assert head["ChecksumCRC32"] == f"{crc32_b64(crcs)}-3"
    assert head.get("ChecksumType") == "COMPOSITE"

    recorder.requests.clear()
    out = tmp_path / "back.bin"
    s3.download_file(bucket, "big/file.bin", str(out))  # ranged GETs in parallel, checksum mode on
    assert sha256_file(out) == digest
    assert any("range" in h for m, _, h in recorder.requests if m == "GET")

    # the tutorial's resource form
    resource = aws.session.resource("s3", endpoint_url=aws.server.endpoint_url)
    resource.Bucket(bucket).Object("tutorial/train.bin").upload_file(str(src))
    out2 = tmp_path / "back2.bin"
    resource.Bucket(bucket).download_file("tutorial/train.bin", str(out2))
    assert sha256_file(out2) == digest


def test_upload_fileobj_and_download_fileobj(s3: Any, bucket: str) -> None:
    data = random_bytes(3 * MiB + 7, seed=4)
    s3.upload_fileobj(
        io.BytesIO(data), bucket, "fileobj.bin", ExtraArgs={"ContentType": "application/x-test"}
    )
    buf = io.BytesIO()
    s3.download_fileobj(bucket, "fileobj.bin", buf)
    assert buf.getvalue() == data
    assert s3.head_object(Bucket=bucket, Key="fileobj.bin")["ContentType"] == "application/x-test"


def test_concurrent_puts_to_one_key_leave_one_whole_object(aws: AwsClients, bucket: str) -> None:
    """Concurrent PUTs of different bodies to one key: the survivor is exactly one of them, whole."""
    bodies = [random_bytes(2 * MiB + i, seed=200 + i) for i in range(6)]
    errors: list[BaseException] = []

    def put(body: bytes) -> None:
        try:
            aws.client("s3").put_object(Bucket=bucket, Key="contended", Body=body)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    s3 = aws.client("s3")
    got = s3.get_object(Bucket=bucket, Key="contended")
    data = got["Body"].read()
    assert data in bodies, "the object is none of the bodies written: torn"
    assert got["ETag"] == md5_etag(data) and got["ContentLength"] == len(data)
    assert [o["Size"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [len(data)]


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_large_bodies_stream_with_flat_server_memory(
    aws: AwsClients, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """A 256 MiB single PUT and GET must not raise the server's peak RSS by anything near the size."""
    assert aws.server.proc is not None
    pid = aws.server.proc.pid
    src = tmp_path / "large.bin"
    digest = write_random_file(src, 256 * MiB, seed=300)
    before = _peak_rss_mib(pid)
    with src.open("rb") as fh:
        s3.put_object(Bucket=bucket, Key="large", Body=fh)
    sha = hashlib.sha256()
    for chunk in s3.get_object(Bucket=bucket, Key="large")["Body"].iter_chunks(MiB):
        sha.update(chunk)
    assert sha.hexdigest() == digest
    grown = _peak_rss_mib(pid) - before
    assert grown < 96, f"the server's peak RSS grew by {grown:.0f} MiB for a 256 MiB object"
