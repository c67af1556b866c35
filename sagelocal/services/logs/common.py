"""What the CloudWatch Logs modules share: errors, clocks, lookups, tokens and name matching."""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from sagelocal.services.base import ServiceError
from sagelocal.store.models.logs import LogGroup, LogStream

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# PutLogEvents quotas (API reference): 10,000 events, 1,048,576 bytes counting 26 per event.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
MAX_EVENT_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
TOO_NEW_MS = 2 * 3600 * 1000
TOO_OLD_MS = 14 * 24 * 3600 * 1000
# GetLogEvents / FilterLogEvents pages: up to 10,000 events and 1 MB.
MAX_PAGE_EVENTS = 10_000
MAX_PAGE_BYTES = 1_048_576

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192)
RETENTION_DAYS += (2557, 2922, 3288, 3653)


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def to_ms(value: datetime) -> int:
    """An aware datetime as epoch milliseconds (exact integer arithmetic)."""
    return (value - EPOCH) // timedelta(milliseconds=1)


def event_size(message: str) -> int:
    """An event's size as the PutLogEvents quotas count it."""
    return len(message.encode("utf-8")) + EVENT_OVERHEAD


# --- errors -------------------------------------------------------------------------------


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def group_not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "The specified log group does not exist.", 400)


def stream_not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "The specified log stream does not exist.", 400)


def invalid_token() -> ServiceError:
    return invalid("The specified nextToken is invalid.")


# --- lookups ------------------------------------------------------------------------------


def parse_group_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of `arn:aws:logs:<region>:<acct>:log-group:<name>[:*]`, else None."""
    parts = arn.split(":", 6)
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "logs" or parts[5] != "log-group":
        return None
    name = parts[6]
    name = name.removesuffix(":*")
    if not name or ":" in name:
        return None
    return parts[3], parts[4], name


def find_group(session: Session, account_id: str, region: str, name: str) -> LogGroup | None:
    return session.scalars(
        select(LogGroup).where(
            LogGroup.account_id == account_id, LogGroup.region == region, LogGroup.name == name
        )
    ).one_or_none()


def get_group(session: Session, account_id: str, region: str, name: str) -> LogGroup:
    group = find_group(session, account_id, region, name)
    if group is None:
        raise group_not_found()
    return group


def group_name_param(params: dict[str, Any], account_id: str, region: str) -> str:
    """The log group a request names by `logGroupName` or `logGroupIdentifier` (name or ARN)."""
    name = params.get("logGroupName")
    ident = params.get("logGroupIdentifier")
    if (name is None) == (ident is None):
        raise invalid("Exactly one of logGroupName or logGroupIdentifier must be specified.")
    if name is not None:
        return name
    if ident.startswith("arn:"):
        parsed = parse_group_arn(ident)
        if parsed is None:
            raise invalid("The specified logGroupIdentifier is not a valid log group ARN.")
        arn_region, arn_account, arn_name = parsed
        if (arn_region, arn_account) != (region, account_id):
            raise group_not_found()
        return arn_name
    return ident


def get_stream(session: Session, group: LogGroup, name: str) -> LogStream:
    stream = session.scalars(
        select(LogStream).where(LogStream.group_id == group.id, LogStream.name == name)
    ).one_or_none()
    if stream is None:
        raise stream_not_found()
    return stream


# --- names --------------------------------------------------------------------------------


def ordered(column: Any, is_sqlite: bool) -> Any:
    """A name column compared byte-wise (code point order) on every backend."""
    return column if is_sqlite else column.collate("C")


def has_prefix(column: Any, prefix: str, is_sqlite: bool) -> ColumnElement[bool]:
    """Case-sensitive `column startswith prefix`, index-friendly (a range plus an exact check)."""
    return and_(ordered(column, is_sqlite) >= prefix, func.substr(column, 1, len(prefix)) == prefix)


def contains(column: Any, needle: str, is_sqlite: bool) -> ColumnElement[bool]:
    """Case-sensitive substring test (SQLite's LIKE ignores ASCII case, so no LIKE)."""
    return (func.instr(column, needle) if is_sqlite else func.strpos(column, needle)) > 0


# --- opaque pagination tokens -------------------------------------------------------------


def encode_token(kind: str, *values: Any) -> str:
    """An opaque nextToken carrying a keyset cursor."""
    raw = json.dumps([kind, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, kind: str) -> list[Any]:
    """The cursor values of a token made by `encode_token(kind, ...)`; InvalidParameter otherwise."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid_token() from None
    if not isinstance(data, list) or not data or data[0] != kind:
        raise invalid_token()
    return data[1:]
