"""S3 durability: a crash at any point leaves the old or the new object, never a torn one, and
`recover()` removes what a crash left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sagelocal.services.s3 import S3Provider
from sagelocal.store.db import Database
from tests.unit.s3_support import S3, blob_files, make_ctx, new_s3, tmp_files


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3]:
    yield from new_s3(tmp_path)


def test_spool_never_adopted_is_swept_and_old_object_intact(s3: S3) -> None:
    s3.bucket()
    s3.put("k", b"old")
    before = blob_files(s3.provider)
    crashed = s3.spool(b"half an upload")  # the server died before the provider ran
    assert crashed.path.exists()
    assert s3.provider.recover() == {"temp_files": 1, "orphan_blobs": 0}
    assert tmp_files(s3.provider) == [] and blob_files(s3.provider) == before
    assert s3.get("k")["Body"] == b"old"


def test_commit_failure_after_adopt_serves_old_object(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    s3.bucket()
    s3.put("k", b"old")
    before = blob_files(s3.provider)
    real_delete = s3.provider.delete_blobs_later
    # simulate a crash: the new blob is adopted, the metadata commit fails, and nothing cleans up
    monkeypatch.setattr(s3.provider, "delete_blobs_later", lambda ids: None)
    real_write = Database.write

    def failing_write(self: Database):  # type: ignore[no-untyped-def]
        raise OSError("disk on fire")

    monkeypatch.setattr(Database, "write", failing_write)
    with pytest.raises(OSError):
        s3.provider.put_object(make_ctx(), {"Bucket": "bkt", "Key": "k", "Body": s3.spool(b"new")})
    monkeypatch.setattr(Database, "write", real_write)
    monkeypatch.setattr(s3.provider, "delete_blobs_later", real_delete)
    assert len(blob_files(s3.provider)) == len(before) + 1  # the orphan
    assert s3.get("k")["Body"] == b"old"
    assert s3.provider.recover()["orphan_blobs"] == 1
    assert blob_files(s3.provider) == before and s3.get("k")["Body"] == b"old"


def test_commit_failure_cleans_up_its_blob_without_recover(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    s3.bucket()
    s3.put("k", b"old")
    before = blob_files(s3.provider)
    monkeypatch.setattr(Database, "write", lambda self: (_ for _ in ()).throw(OSError("boom")))
    with pytest.raises(OSError):
        s3.provider.put_object(make_ctx(), {"Bucket": "bkt", "Key": "k", "Body": s3.spool(b"new")})
    assert blob_files(s3.provider) == before


def test_multipart_completion_crash_keeps_upload_and_old_object(
    s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.bucket()
    s3.put("big", b"old")
    uid = s3("CreateMultipartUpload", Bucket="bkt", Key="big")["UploadId"]
    etag = s3("UploadPart", Bucket="bkt", Key="big", UploadId=uid, PartNumber=1, Body=b"new")["ETag"]
    before = blob_files(s3.provider)
    monkeypatch.setattr(s3.provider, "delete_blobs_later", lambda ids: None)
    real_write = Database.write
    monkeypatch.setattr(Database, "write", lambda self: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError):
        s3.provider.complete_multipart_upload(
            make_ctx(),
            {
                "Bucket": "bkt",
                "Key": "big",
                "UploadId": uid,
                "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": etag}]},
            },
        )
    monkeypatch.setattr(Database, "write", real_write)
    monkeypatch.undo()
    assert s3.get("big")["Body"] == b"old"
    s3.provider.recover()
    assert blob_files(s3.provider) == before and tmp_files(s3.provider) == []
    s3(
        "CompleteMultipartUpload",
        Bucket="bkt",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert s3.get("big")["Body"] == b"new"


def test_recover_after_restart_keeps_everything_referenced(tmp_path: Path) -> None:
    from tests.unit.s3_support import make_provider

    s3 = S3(make_provider(tmp_path))
    s3.bucket()
    s3.put("a", b"1")
    uid = s3("CreateMultipartUpload", Bucket="bkt", Key="m")["UploadId"]
    s3("UploadPart", Bucket="bkt", Key="m", UploadId=uid, PartNumber=1, Body=b"part")
    kept = blob_files(s3.provider)
    s3.provider.db.dispose()
    again = S3(
        S3Provider(Database(f"sqlite:///{tmp_path}/t.db"), s3.provider.blobs.__class__(tmp_path / "blobs"))
    )
    assert again.provider.recover() == {"temp_files": 0, "orphan_blobs": 0}
    assert blob_files(again.provider) == kept
    assert again.get("a")["Body"] == b"1"
