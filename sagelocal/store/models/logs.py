"""CloudWatch Logs: log groups, their streams, and the events in each stream.

Event-domain times (event timestamps, ingestion times, first/last event) are integer
milliseconds since the epoch, exactly as the API speaks them; creation times are UTC datetimes
like every other table. An event's `id` is a store-wide monotonic sequence number: together with
the timestamp it gives a stable total order inside a stream (`ix_logs_events_stream_order`) and
inside a group (`ix_logs_events_group_order`), which is what GetLogEvents tokens and
FilterLogEvents pagination are keyset cursors over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sagelocal.store.models.base import Base, UTCDateTime

# SQLite only aliases ROWID (and so autoincrements) for a column declared exactly INTEGER.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class LogGroup(Base):
    """A log group of one account in one region."""

    __tablename__ = "logs_groups"
    __table_args__ = (UniqueConstraint("account_id", "region", "name", name="uq_logs_groups_name"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retention_in_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kms_key_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    log_group_class: Mapped[str] = mapped_column(String(32), default="STANDARD")
    deletion_protection: Mapped[bool] = mapped_column(Boolean, default=False)
    # Sum of the UTF-8 sizes of the messages held (what storedBytes reports).
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def arn(self) -> str:
        """The ARN without the trailing `:*` (logGroupArn, the tagging APIs' resourceArn)."""
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{self.name}"


class LogStream(Base):
    """A log stream inside a log group."""

    __tablename__ = "logs_streams"
    __table_args__ = (
        UniqueConstraint("group_id", "name", name="uq_logs_streams_name"),
        Index("ix_logs_streams_last_event", "group_id", "last_event_order", "name"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("logs_groups.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_event_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_event_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # last_event_ts, or -1 while the stream is empty: a NOT NULL key for orderBy=LastEventTime.
    last_event_order: Mapped[int] = mapped_column(BigInteger, default=-1)
    last_ingestion_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # How many PutLogEvents batches were accepted (the basis of the sequence tokens).
    upload_count: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)


class LogEvent(Base):
    """One log event. `id` is the monotonic sequence number that breaks timestamp ties."""

    __tablename__ = "logs_events"
    __table_args__ = (
        Index("ix_logs_events_stream_order", "stream_id", "timestamp", "id"),
        Index("ix_logs_events_group_order", "group_id", "timestamp", "id"),
        # Never reuse the id of a deleted newest event: ids must only grow.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("logs_groups.id", ondelete="CASCADE"))
    stream_id: Mapped[int] = mapped_column(ForeignKey("logs_streams.id", ondelete="CASCADE"))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    ingestion_time: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)
