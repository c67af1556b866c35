"""Amazon S3 (`s3`): buckets, objects, listings, multipart uploads, tagging and bucket policies.

Metadata lives in the store (`store/models/s3.py`), bytes in the blob store (`blobs/store.py`).
Each concern is a mixin over `S3Base`; this class composes them and adds start-up recovery.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from sagelocal.billing.s3meter import RequestCounter, metered
from sagelocal.blobs.store import BlobStore
from sagelocal.services.s3.actions import s3_actions
from sagelocal.services.s3.buckets import BucketOps
from sagelocal.services.s3.listing import ListingOps
from sagelocal.services.s3.multipart import MultipartOps
from sagelocal.services.s3.policy import PolicyOps
from sagelocal.services.s3.tagging import TaggingOps
from sagelocal.services.s3.uploads import UploadListingOps
from sagelocal.store.db import Database
from sagelocal.store.models.s3 import S3Object, S3Part


class S3Provider(BucketOps, MultipartOps, ListingOps, UploadListingOps, TaggingOps, PolicyOps):
    """The S3 REST API over the store and the blob store."""

    authz_actions = staticmethod(s3_actions)  # type: ignore[assignment]

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        super().__init__(db, blobs)
        self.request_counter = RequestCounter()  # the cost meter's S3 requests, flushed by billing
        metered(self, self.request_counter)

    @classmethod
    def at_home(cls, db: Database, home: Path) -> S3Provider:
        """The provider keeping its blobs in `<home>/blobs` (uploads spool to `<home>/blobs/tmp`)."""
        return cls(db, BlobStore(home / "blobs"))

    def recover(self) -> dict[str, int]:
        """Crash recovery, run once at start before serving: remove temporary upload files and
        every blob no object or part row references. Returns what was removed."""
        tmp = self.blobs.sweep_tmp()
        orphans = self.blobs.sweep_orphans(self._referenced)
        return {"temp_files": tmp, "orphan_blobs": orphans}

    def _referenced(self, blob_ids: list[str]) -> set[str]:
        with self.db.read() as s:
            used = set(s.scalars(select(S3Object.blob_id).where(S3Object.blob_id.in_(blob_ids))))
            used.update(s.scalars(select(S3Part.blob_id).where(S3Part.blob_id.in_(blob_ids))))
        return used
