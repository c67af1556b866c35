"""Writing log events from inside sagelocal (training jobs, endpoints, notebooks), without HTTP.

`append_events(db, account_id, region, group, stream, [(timestamp_ms, message), ...])` creates
the group and stream when missing and appends the events in one transaction: one lookup, one
multi-row INSERT and two UPDATEs, whatever the number of events. For a process that prints lines
one at a time, `BufferedLogWriter` batches them (by count and age) into such transactions.

Unlike PutLogEvents, the internal API applies no quotas: events are never rejected as too old or
too new, batches need not be sorted (they are stored in timestamp order, ties kept in the given
order), empty messages are dropped and messages over the 1 MB event quota are split.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from types import TracebackType

from sqlalchemy import LargeBinary, bindparam, case, cast, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sagelocal.services.base import utcnow
from sagelocal.services.logs.common import EVENT_OVERHEAD, MAX_EVENT_BYTES, now_ms
from sagelocal.store.db import Database
from sagelocal.store.models.logs import LogEvent, LogGroup, LogStream

Event = tuple[int, str]


_EVENTS = LogEvent.__table__
_STREAMS = LogStream.__table__
_GROUPS = LogGroup.__table__
# Built once: repeated appends then reuse SQLAlchemy's compiled-statement cache.
_INSERT_EVENTS = _EVENTS.insert()
_newest = case(
    (_STREAMS.c.last_event_order < bindparam("p_last"), bindparam("p_last")),
    else_=_STREAMS.c.last_event_order,
)
_UPDATE_STREAM = (
    _STREAMS.update()
    .where(_STREAMS.c.id == bindparam("p_stream"))
    .values(
        last_ingestion_ms=bindparam("p_ingestion"),
        upload_count=_STREAMS.c.upload_count + 1,
        stored_bytes=_STREAMS.c.stored_bytes + bindparam("p_size"),
        first_event_ts=case(
            (_STREAMS.c.first_event_ts.is_(None), bindparam("p_first")),
            (_STREAMS.c.first_event_ts > bindparam("p_first"), bindparam("p_first")),
            else_=_STREAMS.c.first_event_ts,
        ),
        last_event_ts=_newest,
        last_event_order=_newest,
    )
    .returning(_STREAMS.c.upload_count)
)
_UPDATE_GROUP = (
    _GROUPS.update()
    .where(_GROUPS.c.id == bindparam("p_group"))
    .values(stored_bytes=_GROUPS.c.stored_bytes + bindparam("p_size"))
)
_FIND_IDS = (
    select(_GROUPS.c.id, _STREAMS.c.id)
    .select_from(
        _GROUPS.outerjoin(
            _STREAMS, (_STREAMS.c.group_id == _GROUPS.c.id) & (_STREAMS.c.name == bindparam("p_stream"))
        )
    )
    .where(
        _GROUPS.c.account_id == bindparam("p_account"),
        _GROUPS.c.region == bindparam("p_region"),
        _GROUPS.c.name == bindparam("p_group"),
    )
)


def store_events(session: Session, group_id: int, stream_id: int, events: Sequence[Event]) -> int:
    """Insert `events` (non-empty, in timestamp order) and update the stream's and group's figures.

    Returns the stream's new upload count (what the next sequence token is made from).
    """
    ingestion = now_ms()
    conn = session.connection()
    conn.execute(
        _INSERT_EVENTS,
        [
            {
                "group_id": group_id,
                "stream_id": stream_id,
                "timestamp": ts,
                "ingestion_time": ingestion,
                "message": msg,
            }
            for ts, msg in events
        ],
    )
    size = sum(len(msg.encode("utf-8")) for _, msg in events)
    count = conn.execute(
        _UPDATE_STREAM,
        {
            "p_stream": stream_id,
            "p_ingestion": ingestion,
            "p_size": size,
            "p_first": min(ts for ts, _ in events),
            "p_last": max(ts for ts, _ in events),
        },
    ).scalar_one()
    if size:
        conn.execute(_UPDATE_GROUP, {"p_group": group_id, "p_size": size})
    return int(count)


def _split(message: str) -> list[str]:
    """`message` cut into pieces that each fit the event quota (on character boundaries)."""
    limit = MAX_EVENT_BYTES - EVENT_OVERHEAD
    if len(message) * 4 <= limit or len(message.encode("utf-8")) <= limit:
        return [message]
    pieces: list[str] = []
    data = message.encode("utf-8")
    while data:
        cut = min(limit, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:  # not inside a UTF-8 sequence
            cut -= 1
        pieces.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    return pieces


def _prepare(events: Iterable[Event]) -> list[Event]:
    out = [(int(ts), piece) for ts, msg in events if msg for piece in _split(msg)]
    out.sort(key=lambda e: e[0])  # stable: equal timestamps keep their order
    return out


def _ids(session: Session, account_id: str, region: str, group: str, stream: str) -> tuple[int, int]:
    """The (group id, stream id), creating either when missing."""
    row = (
        session.connection()
        .execute(
            _FIND_IDS, {"p_stream": stream, "p_account": account_id, "p_region": region, "p_group": group}
        )
        .first()
    )
    now = utcnow()
    if row is None:
        g = LogGroup(account_id=account_id, region=region, name=group, created_at=now, tags={})
        session.add(g)
        session.flush()
        group_id, stream_id = g.id, None
    else:
        group_id, stream_id = row
    if stream_id is None:
        s = LogStream(group_id=group_id, name=stream, created_at=now)
        session.add(s)
        session.flush()
        stream_id = s.id
    return group_id, stream_id


def append_events(
    db: Database, account_id: str, region: str, group: str, stream: str, events: Iterable[Event]
) -> int:
    """Append `(timestamp_ms, message)` events to group/stream, creating both if missing.

    One transaction; returns how many events were stored.
    """
    prepared = _prepare(events)
    for attempt in range(3):
        try:
            with db.write() as session:
                group_id, stream_id = _ids(session, account_id, region, group, stream)
                if prepared:
                    store_events(session, group_id, stream_id, prepared)
            return len(prepared)
        except IntegrityError:  # a concurrent writer created the group/stream first (PostgreSQL)
            if attempt == 2:
                raise
    return 0  # pragma: no cover


def expire_events(db: Database, now: int | None = None) -> int:
    """Delete events older than their group's retention; returns how many were deleted."""
    now = now_ms() if now is None else now
    size_of = (
        func.length(cast(LogEvent.message, LargeBinary))
        if db.is_sqlite
        else func.octet_length(LogEvent.message)
    )
    deleted = 0
    with db.write() as session:
        groups = session.execute(
            select(LogGroup.id, LogGroup.retention_in_days).where(LogGroup.retention_in_days.is_not(None))
        ).all()
        for group_id, days in groups:
            cutoff = now - int(days) * 86_400_000
            old = (LogEvent.group_id == group_id) & (LogEvent.timestamp < cutoff)
            size = int(session.scalar(select(func.coalesce(func.sum(size_of), 0)).where(old)) or 0)
            count = session.execute(delete(LogEvent).where(old)).rowcount or 0
            if count:
                deleted += count
                remaining = LogGroup.stored_bytes - size
                session.execute(
                    update(LogGroup)
                    .where(LogGroup.id == group_id)
                    .values(stored_bytes=case((remaining < 0, 0), else_=remaining))
                )
                oldest = (
                    select(func.min(LogEvent.timestamp))
                    .where(LogEvent.stream_id == LogStream.id)
                    .scalar_subquery()
                )
                session.execute(
                    update(LogStream).where(LogStream.group_id == group_id).values(first_event_ts=oldest)
                )
    return deleted


class BufferedLogWriter:
    """Collects lines for one stream and appends them in batches (thread-safe).

    A batch is written when `max_events` lines are pending, when the oldest pending line is
    `max_delay` seconds old (checked on each `write`), on `flush()` and on `close()`. Call
    `flush()` periodically (or use `max_delay=0`) when lines may stop arriving.
    """

    def __init__(
        self,
        db: Database,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        *,
        max_events: int = 500,
        max_delay: float = 1.0,
    ) -> None:
        self._target = (db, account_id, region, group, stream)
        self._max_events = max_events
        self._max_delay = max_delay
        self._pending: list[Event] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    def write(self, message: str, timestamp_ms: int | None = None) -> None:
        """Queue one line (a trailing newline is stripped); flush when the batch is due. A NUL
        character becomes U+FFFD: PostgreSQL cannot store NUL in text, and a batch it refuses would
        be retried for ever, stalling the stream (a process printing binary must not do that)."""
        line = message.rstrip("\r\n").replace("\x00", "\ufffd")
        with self._lock:
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append((now_ms() if timestamp_ms is None else timestamp_ms, line))
            due = len(self._pending) >= self._max_events
            due = due or time.monotonic() - self._oldest >= self._max_delay
        if due:
            self.flush()

    def flush(self) -> int:
        """Write what is pending now; returns how many events were stored."""
        with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                return append_events(*self._target, batch)
            except Exception:
                self._pending[:0] = batch  # keep the lines for the next attempt
                raise

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> BufferedLogWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
