"""SIGKILL during a large PUT and during a multipart completion: the previous object survives whole or the
new one is whole, never torn, and no temporary file outlives the restart's recovery."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from sagelocal.launcher import ServerProcess
from tests.integration.s3_support import (
    MiB,
    blob_tmp_dir,
    create_bucket,
    md5_etag,
    multipart_etag,
    random_bytes,
    s3_client,
)

pytestmark = pytest.mark.slow


class Servers:
    """One home served by one server at a time, on a fixed port: killed and restarted by the test."""

    def __init__(self, home: Path, log: Any) -> None:
        self.log = log
        self.current = ServerProcess(home, log=log).start()

    def restart(self) -> ServerProcess:
        old = self.current
        self.current = ServerProcess(old.home, port=old.port, region=old.region, log=self.log).start()
        return self.current


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    with (tmp_path / "server.log").open("w") as log:
        servers = Servers(tmp_path / "home", log)
        try:
            yield servers
        finally:
            servers.current.stop()


def _wait_no_tmp_files(home: Path, timeout: float = 10.0) -> list[Path]:
    """Poll until `<home>/blobs/tmp` holds no file (recovery may finish just after health answers)."""
    tmp = blob_tmp_dir(home)
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in tmp.rglob("*") if p.is_file()] if tmp.exists() else []
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _wait_stored_bytes(home: Path, expected: int, timeout: float = 10.0) -> int:
    """Poll until the blob store (outside its spool folder) holds exactly `expected` bytes: the live
    objects and nothing else (no orphaned part or half-adopted blob). Returns the last total seen."""
    root, tmp = Path(home) / "blobs", blob_tmp_dir(home)
    deadline = time.monotonic() + timeout
    while True:
        total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and tmp not in p.parents)
        if total == expected or time.monotonic() > deadline:
            return total
        time.sleep(0.2)


def _spool_files(home: Path) -> set[Path]:
    tmp = blob_tmp_dir(home)
    return set(tmp.iterdir()) if tmp.exists() else set()


def _kill_while_assembling(server: ServerProcess, before: set[Path], timeout: float = 2.0) -> bool:
    """Kill as soon as a new file appears in the server's spool folder (the object being assembled),
    or after `timeout`; returns whether the assembly was caught in progress."""
    deadline = time.monotonic() + timeout
    seen = False
    while not seen and time.monotonic() < deadline:
        seen = bool(_spool_files(server.home) - before)
        if not seen:
            time.sleep(0.001)
    server.kill()
    return seen


class KillingReader(io.RawIOBase):
    """A 200 MB body that SIGKILLs the server once `kill_at` bytes have gone on the wire.

    botocore reads the body to hash it (SigV4 payload hash, CRC32) and seeks back before sending;
    only the reads after the last rewind count as sent."""

    def __init__(self, path: Path, server: ServerProcess, kill_at: int) -> None:
        self._fh = path.open("rb")
        self._server, self._kill_at = server, kill_at
        self.sent = 0
        self.on_wire = False  # set once botocore has hashed the body and starts sending it
        self.killed = threading.Event()
        self.killed_at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        pos = self._fh.seek(offset, whence)
        self.sent = pos
        return pos

    def tell(self) -> int:
        return self._fh.tell()

    def read(self, size: int = -1) -> bytes:
        chunk = self._fh.read(size)
        self.sent += len(chunk)
        if self.on_wire and self.sent >= self._kill_at and not self.killed.is_set():
            self._server.kill()
            self.killed_at = self.sent
            self.killed.set()
        return chunk

    def readinto(self, buffer: Any) -> int:  # awscrt computes the CRC through readinto
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._fh.close()
        super().close()


def test_sigkill_during_large_put_keeps_previous_object(servers: Servers, tmp_path: Path) -> None:
    server = servers.current
    s3 = s3_client(server, connect_timeout=5, read_timeout=30)
    bucket = create_bucket(s3, prefix="dur")
    old = random_bytes(3 * MiB, seed=51)
    s3.put_object(Bucket=bucket, Key="model.tar.gz", Body=old)

    big = tmp_path / "new.bin"
    size = 200 * MiB
    with big.open("wb") as fh:
        block = random_bytes(4 * MiB, seed=52)
        for _ in range(size // len(block)):
            fh.write(block)
    body = KillingReader(big, server, kill_at=size // 2)

    def sending(**_: Any) -> None:  # after signing and checksumming, just before the body is sent
        body.seek(0)
        body.on_wire = True

    s3.meta.events.register("before-send.s3.PutObject", sending)
    with pytest.raises((BotoCoreError, ClientError)):
        s3.put_object(Bucket=bucket, Key="model.tar.gz", Body=body)
    assert body.killed.is_set(), f"the server was not killed mid-transfer (sent {body.sent} bytes)"
    assert size // 4 < body.killed_at < size, "the kill should land in the middle of the body"
    body.close()
    partial = [p for p in _spool_files(server.home) if p.is_file() and p.stat().st_size > 0]
    assert partial, "the killed upload should have left a partial spool file for recovery to remove"

    restarted = servers.restart()
    s3 = s3_client(restarted)
    got = s3.get_object(Bucket=bucket, Key="model.tar.gz")
    assert got["ETag"] == md5_etag(old) and got["ContentLength"] == len(old)
    assert got["Body"].read() == old
    listing = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listing] == [("model.tar.gz", len(old))]
    assert _wait_no_tmp_files(restarted.home) == []
    assert _wait_stored_bytes(restarted.home, len(old)) == len(old)


def test_sigkill_during_multipart_completion_is_never_torn(servers: Servers) -> None:
    server = servers.current
    s3 = s3_client(server, connect_timeout=5, read_timeout=60, max_pool_connections=4)
    bucket = create_bucket(s3, prefix="durmp")
    old = random_bytes(2 * MiB, seed=61)
    s3.put_object(Bucket=bucket, Key="data.bin", Body=old)

    n_parts = 24
    parts = [random_bytes(5 * MiB, seed=100 + i) for i in range(n_parts - 1)] + [random_bytes(777, seed=99)]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="data.bin")["UploadId"]
    etags = [
        s3.upload_part(Bucket=bucket, Key="data.bin", UploadId=uid, PartNumber=i + 1, Body=p)["ETag"]
        for i, p in enumerate(parts)
    ]
    new_etag = multipart_etag(parts)
    new_sha = hashlib.sha256(b"".join(parts)).hexdigest()
    del parts
    request = {
        "Bucket": bucket,
        "Key": "data.bin",
        "UploadId": uid,
        "MultipartUpload": {"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
    }

    sent = threading.Event()
    s3.meta.events.register("before-send.s3.CompleteMultipartUpload", lambda **_: sent.set())
    outcome: dict[str, Any] = {}

    def complete() -> None:
        try:
            outcome["response"] = s3.complete_multipart_upload(**request)
        except Exception as exc:  # the server died under us
            outcome["error"] = exc

    before = _spool_files(server.home)
    worker = threading.Thread(target=complete)
    worker.start()
    assert sent.wait(30)
    caught = _kill_while_assembling(server, before)
    worker.join(60)
    acknowledged = "response" in outcome
    print(f"kill caught the assembly in progress: {caught}; completion acknowledged: {acknowledged}")

    restarted = servers.restart()
    s3 = s3_client(restarted, read_timeout=60)
    head = s3.head_object(Bucket=bucket, Key="data.bin")
    if head["ETag"] == md5_etag(old):
        assert not acknowledged, "an acknowledged completion was lost"
        assert s3.get_object(Bucket=bucket, Key="data.bin")["Body"].read() == old
        # the upload was not completed, so it is still there and a retry completes it
        done = s3.complete_multipart_upload(**request)
        assert done["ETag"] == new_etag
        head = s3.head_object(Bucket=bucket, Key="data.bin")
    assert head["ETag"] == new_etag, f"torn or unknown object: {head['ETag']}"
    assert head["ContentLength"] == 23 * 5 * MiB + 777
    digest = hashlib.sha256()
    for chunk in s3.get_object(Bucket=bucket, Key="data.bin")["Body"].iter_chunks(4 * MiB):
        digest.update(chunk)
    assert digest.hexdigest() == new_sha
    assert _wait_no_tmp_files(restarted.home) == []
    assert _wait_stored_bytes(restarted.home, head["ContentLength"]) == head["ContentLength"]
