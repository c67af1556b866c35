"""Helpers shared by the S3 integration tests: buckets, files, digests, error checks, raw requests."""

from __future__ import annotations

import base64
import hashlib
import http.client
import random
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.exceptions import ClientError

from sagelocal.launcher import ServerProcess

MiB = 1024 * 1024


class Recorder:
    """Records the requests a client sends (method, URL, headers) via botocore's before-send event."""

    def __init__(self, client: Any) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        client.meta.events.register("before-send.s3", self._record)

    def _record(self, request: Any, **_: Any) -> None:
        headers = {
            k.lower(): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()
        }
        self.requests.append((request.method, request.url, headers))


def unique_bucket(prefix: str = "t") -> str:
    """A fresh, valid bucket name."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def s3_client(server: ServerProcess, **config: Any) -> Any:
    """A boto3 S3 client for a server started by a test itself (retries off)."""
    creds = server.credentials()
    config.setdefault("retries", {"max_attempts": 1, "mode": "standard"})
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=creds["aws_access_key_id"],
        aws_secret_access_key=creds["aws_secret_access_key"],
        config=Config(**config),
    )


def create_bucket(s3: Any, name: str | None = None, prefix: str = "t") -> str:
    """Create a bucket in the client's region (with the LocationConstraint AWS wants there)."""
    name = name or unique_bucket(prefix)
    region = s3.meta.region_name
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return name


def delete_bucket(s3: Any, name: str) -> None:
    """Empty and delete a bucket (aborting multipart uploads); a missing bucket is fine."""
    try:
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=name):
            for up in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=name)
    except ClientError as err:
        if error_code(err) not in ("NoSuchBucket", "404"):
            raise


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code"))


def error_status(err: ClientError) -> int:
    return int(err.response["ResponseMetadata"]["HTTPStatusCode"])


@contextmanager
def s3_error(code: str, status: int) -> Iterator[pytest.ExceptionInfo[ClientError]]:
    """Expect a ClientError with exactly this S3 error code and HTTP status."""
    with pytest.raises(ClientError) as info:
        yield info
    got = (error_code(info.value), error_status(info.value))
    assert got == (code, status), f"expected {code}/{status}, got {got}: {info.value.response.get('Error')}"


def random_bytes(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def write_random_file(path: Path, size: int, seed: int = 0) -> str:
    """Write `size` pseudo-random bytes to `path`; returns their SHA-256 hex."""
    rng = random.Random(seed)
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            chunk = rng.randbytes(min(left, 4 * MiB))
            fh.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def md5_etag(data: bytes) -> str:
    """The ETag S3 gives a single-PUT object: the quoted hex MD5."""
    return f'"{hashlib.md5(data).hexdigest()}"'


def multipart_etag(parts: list[bytes]) -> str:
    """The ETag S3 gives a multipart object: MD5 of the parts' binary MD5s, then -N."""
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def read_body(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def list_keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def bucket_names(s3: Any) -> set[str]:
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def blob_tmp_dir(home: Path) -> Path:
    """Where uploads are spooled before they are moved into place (`<home>/blobs/tmp`)."""
    return Path(home) / "blobs" / "tmp"


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_request(
    server: ServerProcess,
    method: str,
    raw_path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    payload_hash: str | None = None,
) -> RawResponse:
    """Send a SigV4-signed S3 request whose path goes on the wire exactly as given (no normalising).

    `raw_path` is already percent-encoded (e.g. `/bucket/a/../../b` or `/bucket/%2e%2e/x`); it is
    signed as-is, the way S3 signs (no double encoding, no dot-segment removal). `payload_hash`
    replaces the body's SHA-256 in `x-amz-content-sha256` (e.g. STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""
    creds = server.credentials()
    url = server.endpoint_url + raw_path
    hdrs = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest(), **(headers or {})}
    request = AWSRequest(method=method, url=url, data=body, headers=hdrs)
    session = boto3.Session(
        aws_access_key_id=creds["aws_access_key_id"], aws_secret_access_key=creds["aws_secret_access_key"]
    )
    signer = S3SigV4Auth(session.get_credentials(), "s3", server.region)
    if payload_hash is not None:
        signer.payload = lambda _request: payload_hash  # type: ignore[method-assign]
    signer.add_auth(request)
    parts = urlsplit(server.endpoint_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, raw_path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", str(parts.netloc))
        for name, value in request.headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()
