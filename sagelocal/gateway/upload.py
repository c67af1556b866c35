"""S3 request bodies: streamed to disk for uploads, read whole for the rest, checked either way.

Uploads (operations whose payload is a streaming blob: PutObject, UploadPart) are decoded from
`aws-chunked` when sent so, written to a `SpooledBody` in ~1 MiB batches off the event loop,
and hashed on the way; a literal `x-amz-content-sha256` is verified once the last byte is in.
Other S3 bodies (XML documents, policies) are small: read whole, de-chunked, verified.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import anyio.to_thread

from sagelocal.blobs.spool import CHECKSUM_ALGORITHMS, SpooledBody, new_checksum
from sagelocal.gateway.aws_chunked import AwsChunkedDecoder, decode_request
from sagelocal.gateway.http import Headers, HttpRequest
from sagelocal.gateway.sigv4 import PayloadMode, SignatureInfo, verify_payload_hash
from sagelocal.services.s3.checksums import bad_checksum, check_content_md5

BATCH = 1 << 20  # bytes gathered before each disk write


def _is_chunked(request: HttpRequest, info: SignatureInfo | None) -> bool:
    if info is not None and isinstance(info, SignatureInfo) and info.payload_mode.is_streaming:
        return True
    return "aws-chunked" in request.headers.get("content-encoding", "")


def requested_checksums(request: HttpRequest) -> tuple[str, ...]:
    """The flexible-checksum algorithms the request names (header, trailer or SDK hint)."""
    names = {request.headers.get("x-amz-sdk-checksum-algorithm", "").upper()}
    names.update(
        h[len("x-amz-checksum-") :].upper() for h in request.headers if h.startswith("x-amz-checksum-")
    )
    for trailer in request.headers.get("x-amz-trailer", "").split(","):
        trailer = trailer.strip().lower()
        if trailer.startswith("x-amz-checksum-"):
            names.add(trailer[len("x-amz-checksum-") :].upper())
    return tuple(a for a in CHECKSUM_ALGORITHMS if a in names)


async def spool_upload(
    request: HttpRequest, info: SignatureInfo | None, secret: str | None, spool_dir: Path
) -> SpooledBody:
    """Stream the request body into a SpooledBody; verify chunk signatures and the payload hash."""
    assert request.stream is not None
    literal_sha = isinstance(info, SignatureInfo) and info.payload_mode is PayloadMode.SHA256
    algorithms = requested_checksums(request)
    spool = SpooledBody(spool_dir, algorithms, want_sha256=literal_sha or "SHA256" in algorithms)
    decoder = AwsChunkedDecoder.for_request(request, info, secret) if _is_chunked(request, info) else None  # type: ignore[arg-type]
    pending: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream:
            data = decoder.feed(chunk) if decoder is not None else chunk
            if data:
                pending.append(data)
                size += len(data)
            if size >= BATCH:
                batch, pending, size = b"".join(pending), [], 0
                await anyio.to_thread.run_sync(spool.write, batch)
        if pending:
            await anyio.to_thread.run_sync(spool.write, b"".join(pending))
        if decoder is not None:
            spool.trailers = decoder.finish()
        await anyio.to_thread.run_sync(spool.finish)
        if literal_sha:
            verify_payload_hash(info, spool.sha256_hex or "")  # type: ignore[arg-type]
    except BaseException:
        spool.discard()
        raise
    request.stream = None
    request.body = spool
    if decoder is not None:
        request.headers = _without_transport_encoding(request.headers)
    return spool


def _without_transport_encoding(headers: Headers) -> Headers:
    """`aws-chunked` is framing, not the object's encoding: S3 stores only what else is named
    (`gzip,aws-chunked` -> `gzip`; `aws-chunked` alone -> nothing)."""
    out = []
    for name, value in headers.raw():
        if name.lower() == "content-encoding":
            value = ",".join(v.strip() for v in value.split(",") if v.strip().lower() != "aws-chunked")
            if not value:
                continue
        out.append((name, value))
    return Headers(out)


async def load_small_body(request: HttpRequest, info: SignatureInfo | None, secret: str | None) -> bytes:
    """Read a non-upload S3 body whole, de-chunk it, and verify a literal payload hash."""
    await request.load_body()
    if _is_chunked(request, info) and isinstance(info, SignatureInfo):
        request.body, _trailers = decode_request(request, info, secret)  # type: ignore[arg-type]
    if isinstance(info, SignatureInfo) and info.payload_mode is PayloadMode.SHA256:
        verify_payload_hash(info, hashlib.sha256(request.body).hexdigest())
    return request.body


def verify_small_body_digests(request: HttpRequest) -> None:
    """Content-MD5 and x-amz-checksum-* headers over a whole (non-upload) S3 body, e.g. the XML
    of DeleteObjects, which the model gives no member for; uploads are checked by the provider."""
    body = request.body if isinstance(request.body, bytes) else b""
    md5 = request.headers.get("content-md5")
    if md5 is not None:
        check_content_md5(md5, hashlib.md5(body).digest())
    for algorithm in CHECKSUM_ALGORITHMS:
        expected = request.headers.get(f"x-amz-checksum-{algorithm.lower()}")
        if expected is None:
            continue
        hasher = new_checksum(algorithm)
        hasher.update(body)
        if base64.b64encode(hasher.digest()).decode() != expected.strip():
            raise bad_checksum(algorithm)
