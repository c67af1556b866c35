"""S3: buckets, objects, multipart uploads and their parts.

Bytes live in the blob store; a row names its blob by id. Object keys are compared in UTF-8 byte
order (how S3 lists them): SQLite's default BINARY collation does that for TEXT, and on
PostgreSQL the key columns use the "C" collation. The (bucket, key) primary key is the index
every listing is a range scan over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sagelocal.store.models.base import Base, UTCDateTime

# Byte-order comparison of keys on every backend.
KeyString = String(1024).with_variant(String(1024, collation="C"), "postgresql")


class S3Bucket(Base):
    """A bucket. Names are global across accounts and regions, as in AWS."""

    __tablename__ = "s3_buckets"

    name: Mapped[str] = mapped_column(
        String(63).with_variant(String(63, collation="C"), "postgresql"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    region: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    owner_id: Mapped[str] = mapped_column(String(64))  # canonical user id
    owner_name: Mapped[str] = mapped_column(String(128), default="")
    policy: Mapped[str | None] = mapped_column(Text, nullable=True)  # the document as given
    tags: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)  # None: no tag set


class S3Object(Base):
    """The current version of one object."""

    __tablename__ = "s3_objects"

    bucket: Mapped[str] = mapped_column(ForeignKey("s3_buckets.name", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(KeyString, primary_key=True)
    blob_id: Mapped[str] = mapped_column(String(32), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(64))  # quoted, as on the wire
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime)
    content_type: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    content_encoding: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    content_disposition: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    content_language: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    cache_control: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    website_redirect: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    # {"CRC32": "<base64>", ...}; "type": "FULL_OBJECT" | "COMPOSITE"
    checksums: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    storage_class: Mapped[str] = mapped_column(String(32), default="STANDARD")
    parts_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Sizes of the parts of a multipart object (GetObject?partNumber=N), else None.
    part_sizes: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)


class S3MultipartUpload(Base):
    """An initiated, not yet completed or aborted, multipart upload."""

    __tablename__ = "s3_multipart_uploads"
    __table_args__ = (Index("ix_s3_multipart_uploads_key", "bucket", "key", "initiated"),)

    upload_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket: Mapped[str] = mapped_column(ForeignKey("s3_buckets.name", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(KeyString)
    initiated: Mapped[datetime] = mapped_column(UTCDateTime)
    account_id: Mapped[str] = mapped_column(String(12))
    initiator_arn: Mapped[str] = mapped_column(String(2048), default="")
    storage_class: Mapped[str] = mapped_column(String(32), default="STANDARD")
    # What the completed object gets: content headers, expires (ISO text), redirect.
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    checksum_algorithm: Mapped[str | None] = mapped_column(String(16), nullable=True)
    checksum_type: Mapped[str | None] = mapped_column(String(16), nullable=True)


class S3Part(Base):
    """One uploaded part of a multipart upload (the latest upload of that part number)."""

    __tablename__ = "s3_parts"

    upload_id: Mapped[str] = mapped_column(
        ForeignKey("s3_multipart_uploads.upload_id", ondelete="CASCADE"), primary_key=True
    )
    part_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    blob_id: Mapped[str] = mapped_column(String(32), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(64))  # quoted
    checksums: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime)
