"""What authorization needs to know from S3's store: a bucket's policy and an object's tags."""

from __future__ import annotations

from sqlalchemy import select

from sagelocal.store.db import Database
from sagelocal.store.models.s3 import S3Bucket, S3Object


class S3AuthzLookup:
    def __init__(self, db: Database) -> None:
        self.db = db

    def bucket_policy(self, bucket: str) -> str | None:
        """The bucket's policy document, or None (no policy, or no such bucket)."""
        with self.db.read() as session:
            return session.scalar(select(S3Bucket.policy).where(S3Bucket.name == bucket))

    def object_tags(self, bucket: str, key: str) -> dict[str, str]:
        """The object's tags (none for a missing object)."""
        with self.db.read() as session:
            tags = session.scalar(select(S3Object.tags).where(S3Object.bucket == bucket, S3Object.key == key))
        return dict(tags or {})
