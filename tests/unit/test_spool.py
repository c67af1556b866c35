"""Spooled upload bodies: bytes on disk, digests computed on the way."""

from __future__ import annotations

import base64
import hashlib
import zlib
from pathlib import Path

from sagelocal.blobs.spool import SpooledBody


def test_digests_match_the_reference_implementations(tmp_path: Path) -> None:
    data = b"123456789" * 100_000
    spool = SpooledBody(tmp_path, ("CRC32", "CRC32C", "SHA1"))
    for i in range(0, len(data), 65_537):
        spool.write(data[i : i + 65_537])
    spool.finish()
    assert spool.path.read_bytes() == data and spool.size == len(data)
    assert spool.md5_hex == hashlib.md5(data).hexdigest()
    assert spool.sha256_hex == hashlib.sha256(data).hexdigest()
    assert spool.checksums["SHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert spool.checksums["SHA1"] == base64.b64encode(hashlib.sha1(data).digest()).decode()
    assert spool.checksums["CRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_crc32c_known_vector(tmp_path: Path) -> None:
    spool = SpooledBody(tmp_path, ("CRC32C",))
    spool.write(b"123456789")
    spool.finish()
    assert spool.checksums["CRC32C"] == base64.b64encode(bytes.fromhex("e3069283")).decode()


def test_discard_removes_the_file(tmp_path: Path) -> None:
    spool = SpooledBody(tmp_path)
    spool.write(b"partial")
    spool.discard()
    spool.discard()
    assert list(tmp_path.iterdir()) == []
