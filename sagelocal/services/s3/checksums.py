"""Request integrity: Content-MD5 and the flexible checksums (x-amz-checksum-*), sent as headers or
as aws-chunked trailers, verified against what the spooled body hashed to; and the checksums of
multipart objects (COMPOSITE: checksum of the part checksums, `-N`; FULL_OBJECT: CRCs combined)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sagelocal.blobs.spool import CHECKSUM_ALGORITHMS, SpooledBody, new_checksum
from sagelocal.services.base import ServiceError
from sagelocal.services.s3.common import invalid_request

try:
    from awscrt import checksums as _crt
except ImportError:  # pragma: no cover
    _crt = None

DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
CRC_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME")
PARAM = {a: f"Checksum{a}" for a in CHECKSUM_ALGORITHMS}
_READ = 1024 * 1024


def _header(algorithm: str) -> str:
    return f"x-amz-checksum-{algorithm.lower()}"


def _decode(value: str, algorithm: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != DIGEST_SIZES[algorithm]:
        raise invalid_request(f"Value for {_header(algorithm)} header is invalid.")
    return raw


def requested_checksum(
    params: dict[str, Any], body: SpooledBody | None = None
) -> tuple[str | None, str | None]:
    """The flexible checksum the request names: (algorithm, expected base64 value or None).

    A value comes from an `x-amz-checksum-*` header or an aws-chunked trailer; `ChecksumAlgorithm`
    alone (x-amz-sdk-checksum-algorithm) asks S3 to compute and store that checksum."""
    given = {a: params[p] for a, p in PARAM.items() if params.get(p)}
    for name, value in (getattr(body, "trailers", None) or {}).items():
        name = name.lower()
        if name.startswith("x-amz-checksum-"):
            algorithm = name[len("x-amz-checksum-") :].upper()
            if algorithm in DIGEST_SIZES:
                given[algorithm] = value.strip()
    if len(given) > 1:
        raise invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    if given:
        ((algorithm, value),) = given.items()
        _decode(value, algorithm)
        return algorithm, value
    algorithm = params.get("ChecksumAlgorithm")
    if algorithm:
        algorithm = algorithm.upper()
        if algorithm not in DIGEST_SIZES:
            raise invalid_request(
                "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
            )
        return algorithm, None
    return None, None


def file_checksum(path: Path, algorithm: str) -> str:
    """The base64 checksum of a whole file (when the spool did not compute it on the way)."""
    hasher = new_checksum(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ):
            hasher.update(chunk)
    return base64.b64encode(hasher.digest()).decode()


def body_checksum(body: SpooledBody, algorithm: str) -> str:
    value = body.checksums.get(algorithm)
    if value is None:
        value = file_checksum(Path(body.path), algorithm)
        body.checksums[algorithm] = value
    return value


def check_content_md5(given: str, actual: bytes) -> None:
    """A Content-MD5 header (base64) against the body's MD5: InvalidDigest or BadDigest."""
    try:
        raw = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise ServiceError(
            "InvalidDigest", "The Content-MD5 you specified was invalid.", 400, fields={"Content-MD5": given}
        )
    if raw != actual:
        raise ServiceError(
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
            400,
            fields={"ExpectedDigest": given, "CalculatedDigest": base64.b64encode(actual).decode()},
        )


def bad_checksum(algorithm: str) -> ServiceError:
    return ServiceError(
        "BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400
    )


def verify_body(params: dict[str, Any], body: SpooledBody) -> dict[str, str]:
    """Check Content-MD5 and the flexible checksum; returns the checksums to store ({alg: b64})."""
    md5 = params.get("ContentMD5")
    if md5 is not None:
        check_content_md5(md5, bytes.fromhex(body.md5_hex))
    algorithm, expected = requested_checksum(params, body)
    if algorithm is None:
        return {}
    actual = body_checksum(body, algorithm)
    if expected is not None and expected != actual:
        raise bad_checksum(algorithm)
    return {algorithm: actual}


def composite(algorithm: str, part_values: Iterable[str]) -> str:
    """COMPOSITE multipart checksum: the checksum of the concatenated part digests, then `-N`."""
    hasher = new_checksum(algorithm)
    n = 0
    for value in part_values:
        hasher.update(base64.b64decode(value))
        n += 1
    return f"{base64.b64encode(hasher.digest()).decode()}-{n}"


def combine_full(algorithm: str, parts: Iterable[tuple[str, int]]) -> str | None:
    """FULL_OBJECT multipart CRC from the parts' CRCs and sizes (None when not computable here)."""
    if _crt is None or algorithm not in CRC_ALGORITHMS:
        return None
    combine = {
        "CRC32": _crt.combine_crc32,
        "CRC32C": _crt.combine_crc32c,
        "CRC64NVME": _crt.combine_crc64nvme,
    }[algorithm]
    value: int | None = None
    for b64, size in parts:
        crc = int.from_bytes(base64.b64decode(b64), "big")
        value = crc if value is None else combine(value, crc, size)
    if value is None:
        value = 0
    return base64.b64encode(value.to_bytes(DIGEST_SIZES[algorithm], "big")).decode()
