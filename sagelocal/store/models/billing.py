"""The cost meter's ledger: usage intervals that outlive the resources they measure, S3 request
counts per bucket and day, and S3 storage samples."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sagelocal.store.models.base import Base, UTCDateTime


class BillingUsage(Base):
    """`quantity` (instances or GB) of one resource's `family` from `started_at` until `ended_at`
    (None while it lasts). A resource change closes its rows and opens new ones."""

    __tablename__ = "billing_usage"
    __table_args__ = (Index("ix_billing_usage_open", "resource_arn", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))
    resource_arn: Mapped[str] = mapped_column(String(256))
    resource_name: Mapped[str] = mapped_column(String(256))
    resource_type: Mapped[str] = mapped_column(String(32))
    variant: Mapped[str | None] = mapped_column(String(64), default=None)
    family: Mapped[str] = mapped_column(String(32))
    instance_type: Mapped[str | None] = mapped_column(String(32), default=None)
    quantity: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class BillingS3Requests(Base):
    """S3 requests of one kind (put: PUT/COPY/POST/LIST; get: GET and the rest) on one bucket
    in one UTC day."""

    __tablename__ = "billing_s3_requests"
    __table_args__ = (
        UniqueConstraint("account_id", "region", "bucket", "day", "kind", name="uq_billing_s3_requests_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))
    bucket: Mapped[str] = mapped_column(String(63))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD (UTC)
    kind: Mapped[str] = mapped_column(String(8))
    count: Mapped[int] = mapped_column(BigInteger)


class BillingS3Storage(Base):
    """A bucket held `bytes` from `sampled_at` until its next sample (written on change only)."""

    __tablename__ = "billing_s3_storage"
    __table_args__ = (Index("ix_billing_s3_storage_bucket", "bucket", "sampled_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))
    bucket: Mapped[str] = mapped_column(String(63))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bytes: Mapped[int] = mapped_column(BigInteger)
