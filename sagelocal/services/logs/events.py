"""Log events: PutLogEvents batch rules, GetLogEvents paging, FilterLogEvents search.

GetLogEvents tokens are AWS-shaped, `f/<56 digits>` and `b/<56 digits>`: the digits hold the
(timestamp, sequence id) of the event the page ended at (20 + 36 digits). `f/P` reads the events
after P in (timestamp, id) order, `b/P` the events before it, so both directions page by index
range scans over `ix_logs_events_stream_order`, and a forward token that found nothing new is
handed back unchanged (how the SageMaker SDK knows it reached the end while tailing).
Order is by event time, so a forward cursor does not see an event stored later with a timestamp
before the cursor's; the internal writer stamps lines with the current time, which never happens.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, literal, or_, select
from sqlalchemy.orm import Session

from sagelocal.services.logs.common import (
    MAX_BATCH_BYTES,
    MAX_BATCH_SPAN_MS,
    MAX_EVENT_BYTES,
    MAX_PAGE_BYTES,
    MAX_PAGE_EVENTS,
    TOO_NEW_MS,
    TOO_OLD_MS,
    decode_token,
    encode_token,
    event_size,
    has_prefix,
    invalid,
    invalid_token,
)
from sagelocal.services.logs.patterns import compile_pattern
from sagelocal.store.models.logs import LogEvent, LogGroup, LogStream

_TOKEN = re.compile(r"([fb])/(\d{20})(\d{36})")
_MAX_TS = 10**20 - 1
_MAX_SEQ = 10**36 - 1
# FilterLogEvents merges streams one index scan each up to this many streams, above it scans
# the group's index filtering by stream.
_MERGE_STREAMS = 20
_SCAN_CHUNK = 2000

Cursor = tuple[int, int]


# --- PutLogEvents -------------------------------------------------------------------------


def check_batch(
    events: Sequence[dict[str, Any]], now: int, retention_days: int | None
) -> tuple[int, int, dict[str, int]]:
    """Apply PutLogEvents' batch rules to `events` ({timestamp, message} dicts).

    Raises InvalidParameterException for a batch AWS refuses outright; otherwise returns the
    half-open index range [lo, hi) of the accepted events and the rejectedLogEventsInfo members.
    """
    total = 0
    for ev in events:
        size = event_size(ev["message"])
        if size > MAX_EVENT_BYTES:
            raise invalid(f"Log event too large: {size} bytes exceeds limit of {MAX_EVENT_BYTES}")
        total += size
    if total > MAX_BATCH_BYTES:
        raise invalid(f"Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")
    stamps = [int(ev["timestamp"]) for ev in events]
    if any(a > b for a, b in itertools.pairwise(stamps)):
        raise invalid("Log events in a single PutLogEvents request must be in chronological order.")
    too_old_end = sum(1 for ts in stamps if ts < now - TOO_OLD_MS)
    expired_end = 0
    if retention_days is not None:
        expired_end = sum(1 for ts in stamps if ts < now - retention_days * 86_400_000)
    too_new_start = next((i for i, ts in enumerate(stamps) if ts > now + TOO_NEW_MS), len(stamps))
    lo = max(too_old_end, expired_end)
    hi = max(too_new_start, lo)
    if hi > lo and stamps[hi - 1] - stamps[lo] > MAX_BATCH_SPAN_MS:
        raise invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
        )
    rejected: dict[str, int] = {}
    if too_old_end:
        rejected["tooOldLogEventEndIndex"] = too_old_end
    if expired_end:
        rejected["expiredLogEventEndIndex"] = expired_end
    if too_new_start < len(stamps):
        rejected["tooNewLogEventStartIndex"] = too_new_start
    return lo, hi, rejected


# --- GetLogEvents -------------------------------------------------------------------------


def _fmt(direction: str, ts: int, seq: int) -> str:
    return f"{direction}/{min(max(ts, 0), _MAX_TS):020d}{min(max(seq, 0), _MAX_SEQ):036d}"


def _parse(token: str) -> tuple[str, Cursor]:
    m = _TOKEN.fullmatch(token)
    if m is None:
        raise invalid_token()
    return m.group(1), (int(m.group(2)), int(m.group(3)))


def _range(lo: int | None, hi: int | None, cursor: Cursor | None, desc: bool) -> list[ColumnElement[bool]]:
    """Rows with lo <= timestamp <= hi (inclusive, None: open) strictly after `cursor` in
    (timestamp, id) order, before it when `desc`. The cursor tightens the timestamp range itself,
    so the index range scan starts at the cursor rather than at `lo`."""
    conds: list[ColumnElement[bool]] = []
    if cursor is not None:
        ts, seq = cursor
        if desc:
            hi = ts if hi is None else min(hi, ts)
            conds.append(or_(LogEvent.timestamp < ts, LogEvent.id < seq))
        else:
            lo = ts if lo is None else max(lo, ts)
            conds.append(or_(LogEvent.timestamp > ts, LogEvent.id > seq))
    if lo is not None:
        conds.append(LogEvent.timestamp >= lo)
    if hi is not None:
        conds.append(LogEvent.timestamp <= hi)
    return conds


def _cap(rows: Sequence[Row[Any]], limit: int) -> list[Row[Any]]:
    """The leading rows that fit in one page: `limit` events and 1 MB (at least one event)."""
    out: list[Row[Any]] = []
    size = 0
    for row in rows[:limit]:
        size += event_size(row.message)
        if out and size > MAX_PAGE_BYTES:
            break
        out.append(row)
    return out


def get_log_events(session: Session, stream_id: int, params: dict[str, Any]) -> dict[str, Any]:
    """The GetLogEvents output for the stream with id `stream_id`."""
    token = params.get("nextToken")
    cursor: Cursor | None = None
    if token is not None:
        direction, cursor = _parse(token)
    else:
        direction = "f" if params.get("startFromHead", False) else "b"
    desc = direction == "b"
    start, end = params.get("startTime"), params.get("endTime")
    last = None if end is None else end - 1  # endTime is exclusive here
    conds = [LogEvent.stream_id == stream_id, *_range(start, last, cursor, desc)]
    order = (LogEvent.timestamp.desc(), LogEvent.id.desc()) if desc else (LogEvent.timestamp, LogEvent.id)
    limit = params.get("limit") or MAX_PAGE_EVENTS
    stmt = select(LogEvent.id, LogEvent.timestamp, LogEvent.ingestion_time, LogEvent.message)
    rows = _cap(session.execute(stmt.where(*conds).order_by(*order).limit(limit)).all(), limit)
    if desc:
        rows.reverse()
    if rows:
        forward = _fmt("f", rows[-1].timestamp, rows[-1].id)
        backward = _fmt("b", rows[0].timestamp, rows[0].id)
    elif cursor is None:
        anchor = start or 0
        forward, backward = _fmt("f", anchor, 0), _fmt("b", anchor, 0)
    elif desc:  # nothing before the cursor: go forward from (and including) it
        forward, backward = _fmt("f", cursor[0], cursor[1] - 1), token
    else:  # nothing after the cursor: go back from (and including) it
        forward, backward = token, _fmt("b", cursor[0], cursor[1] + 1)
    return {
        "events": [
            {"timestamp": r.timestamp, "message": r.message, "ingestionTime": r.ingestion_time} for r in rows
        ],
        "nextForwardToken": forward,
        "nextBackwardToken": backward,
    }


# --- FilterLogEvents ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Query:
    """What one FilterLogEvents scan reads: a statement, its filters and the time range."""

    stmt: Any
    conds: list[ColumnElement[bool]]
    lo: int | None
    hi: int | None
    desc: bool
    chunk: int


def _scan(session: Session, q: _Query, cursor: Cursor | None) -> Iterator[Row[Any]]:
    """The rows of the query in (timestamp, id) order after `cursor`, chunk by chunk."""
    order = (LogEvent.timestamp.desc(), LogEvent.id.desc()) if q.desc else (LogEvent.timestamp, LogEvent.id)
    stmt, chunk = q.stmt, q.chunk
    while True:
        where = [*q.conds, *_range(q.lo, q.hi, cursor, q.desc)]
        rows = session.execute(stmt.where(*where).order_by(*order).limit(chunk)).all()
        yield from rows
        if len(rows) < chunk:
            return
        cursor = (rows[-1].timestamp, rows[-1].id)


def filter_log_events(
    session: Session, group: LogGroup, params: dict[str, Any], is_sqlite: bool
) -> dict[str, Any]:
    """The FilterLogEvents output for `group`."""
    names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
    if names and prefix:
        raise invalid("logStreamNames and logStreamNamePrefix cannot both be specified.")
    pattern = compile_pattern(params.get("filterPattern"))
    limit = params.get("limit") or MAX_PAGE_EVENTS
    token = params.get("nextToken")
    cursor: Cursor | None = None
    if token is not None:
        values = decode_token(token, "fle")
        if len(values) != 3 or not all(isinstance(v, int) for v in values[1:]):
            raise invalid_token()
        desc, cursor = bool(values[0]), (values[1], values[2])
    else:
        desc = not params.get("startFromHead", True)

    conds: list[ColumnElement[bool]] = []
    lo, hi = params.get("startTime"), params.get("endTime")  # both inclusive here
    term_filter = pattern.sql(LogEvent.message, is_sqlite)
    if term_filter is not None:
        conds.append(term_filter)
    chunk = min(limit + 1, _SCAN_CHUNK)
    cols = (LogEvent.id, LogEvent.timestamp, LogEvent.ingestion_time, LogEvent.message)

    stream_cond: ColumnElement[bool] | None = None
    if names:
        stream_cond = LogStream.name.in_(names)
    elif prefix:
        stream_cond = has_prefix(LogStream.name, prefix, is_sqlite)
    streams: list[Row[Any]] | None = None
    if stream_cond is not None:
        streams = session.execute(
            select(LogStream.id, LogStream.name)
            .where(LogStream.group_id == group.id, stream_cond)
            .limit(_MERGE_STREAMS + 1)
        ).all()
    if streams is not None and len(streams) <= _MERGE_STREAMS:
        scans = [
            _scan(
                session,
                _Query(
                    select(*cols, literal(s.name).label("stream")),
                    [LogEvent.stream_id == s.id, *conds],
                    lo,
                    hi,
                    desc,
                    chunk,
                ),
                cursor,
            )
            for s in streams
        ]
        rows: Iterator[Row[Any]] = heapq.merge(*scans, key=lambda r: (r.timestamp, r.id), reverse=desc)
    else:
        group_conds = [LogEvent.group_id == group.id, *conds]
        if stream_cond is not None:
            group_conds.append(stream_cond)
        stmt = select(*cols, LogStream.name.label("stream")).join(
            LogStream, LogStream.id == LogEvent.stream_id
        )
        rows = _scan(session, _Query(stmt, group_conds, lo, hi, desc, chunk), cursor)

    page: list[Row[Any]] = []
    size, more = 0, False
    for row in rows:
        if term_filter is None and not pattern.matches(row.message):
            continue
        size += event_size(row.message)
        if len(page) >= limit or (page and size > MAX_PAGE_BYTES):
            more = True
            break
        page.append(row)
    out: dict[str, Any] = {
        "events": [
            {
                "logStreamName": r.stream,
                "timestamp": r.timestamp,
                "message": r.message,
                "ingestionTime": r.ingestion_time,
                "eventId": f"{r.id:056d}",
            }
            for r in page
        ]
    }
    if more:
        out["nextToken"] = encode_token("fle", int(desc), page[-1].timestamp, page[-1].id)
    return out
