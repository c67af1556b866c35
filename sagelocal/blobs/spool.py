"""Upload bodies spooled to disk while they arrive, hashed on the way, never held whole in memory.

The gateway writes a streaming request body (S3 PutObject, UploadPart) into a `SpooledBody`
in the blob store's temporary folder, computing MD5 (the ETag), SHA-256 (to check SigV4's
`x-amz-content-sha256`) and whichever flexible checksum the request names. The provider then
checks what it must and moves the file into place with one rename (`BlobStore.adopt`), or the
gateway discards it when the request fails.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

try:  # CRC32C and CRC64NVME come from the AWS Common Runtime, as botocore's own do.
    from awscrt import checksums as _crt
except ImportError:  # pragma: no cover - awscrt is a dependency; this keeps imports working without it
    _crt = None

CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


class _Crc:
    """An incremental CRC whose digest is the big-endian bytes, as S3 encodes it."""

    def __init__(self, update: Callable[[bytes, int], int], width: int) -> None:
        self._update, self._width, self._value = update, width, 0

    def update(self, data: bytes) -> None:
        self._value = self._update(data, self._value)

    def digest(self) -> bytes:
        return (self._value & ((1 << (8 * self._width)) - 1)).to_bytes(self._width, "big")


def new_checksum(algorithm: str) -> _Crc | hashlib._Hash:
    """An incremental hasher for an S3 flexible-checksum algorithm name (upper case)."""
    if algorithm == "CRC32":
        return _Crc(lambda d, v: zlib.crc32(d, v), 4)
    if algorithm == "CRC32C" and _crt is not None:
        return _Crc(_crt.crc32c, 4)
    if algorithm == "CRC64NVME" and _crt is not None:
        return _Crc(_crt.crc64nvme, 8)
    if algorithm == "SHA1":
        return hashlib.sha1()
    if algorithm == "SHA256":
        return hashlib.sha256()
    raise ValueError(f"unsupported checksum algorithm {algorithm}")


class SpooledBody:
    """A request body written to a temporary file, with its size and digests."""

    def __init__(
        self, directory: Path, checksum_algorithms: tuple[str, ...] = (), want_sha256: bool = True
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"upload-{uuid.uuid4().hex}"
        self._fh: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed in finish()/discard()
        self._md5 = hashlib.md5()
        self._sha256 = hashlib.sha256() if want_sha256 else None
        self._checksums = {
            a: new_checksum(a) for a in checksum_algorithms if a != "SHA256" or not want_sha256
        }
        self.size = 0
        self.md5_hex = ""
        self.sha256_hex: str | None = None
        self.checksums: dict[str, str] = {}  # algorithm -> base64 digest
        self.trailers: dict[str, str] = {}  # aws-chunked trailers (x-amz-checksum-crc32: ...)

    def write(self, data: bytes) -> None:
        if not data:
            return
        assert self._fh is not None, "spool already finished"
        self._fh.write(data)
        self.size += len(data)
        self._md5.update(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        for hasher in self._checksums.values():
            hasher.update(data)

    def finish(self) -> SpooledBody:
        """Flush to disk (fsync) and compute the digests."""
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
        self.md5_hex = self._md5.hexdigest()
        if self._sha256 is not None:
            self.sha256_hex = self._sha256.hexdigest()
            self.checksums.setdefault("SHA256", base64.b64encode(self._sha256.digest()).decode())
        for algorithm, hasher in self._checksums.items():
            self.checksums[algorithm] = base64.b64encode(hasher.digest()).decode()
        return self

    @property
    def md5_base64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.md5_hex)).decode()

    def open(self) -> BinaryIO:
        return open(self.path, "rb")

    def discard(self) -> None:
        """Remove the temporary file (safe to call twice, or after the file was adopted)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.path.unlink(missing_ok=True)
