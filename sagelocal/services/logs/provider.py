"""CloudWatch Logs (`logs`): log groups, log streams, events, retention and tags.

Every group belongs to the caller's (account, region). All state is in the store; event reads
are keyset queries over the events' (stream|group, timestamp, id) indexes (see `events`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError

from sagelocal.services.base import Provider, RequestContext, ServiceError, utcnow
from sagelocal.services.iam.actions import logs_actions
from sagelocal.services.logs import events as ev
from sagelocal.services.logs.common import (
    RETENTION_DAYS,
    contains,
    decode_token,
    encode_token,
    find_group,
    get_group,
    get_stream,
    group_name_param,
    group_not_found,
    has_prefix,
    invalid,
    now_ms,
    ordered,
    parse_group_arn,
    to_ms,
)
from sagelocal.services.logs.writer import store_events
from sagelocal.store.db import Database
from sagelocal.store.models.logs import LogEvent, LogGroup, LogStream

MAX_TAGS = 50
DEFAULT_PAGE = 50


def _seq_token(count: int) -> str:
    return f"{count:056d}"


class LogsProvider(Provider):
    """The CloudWatch Logs API over the store."""

    service_name: ClassVar[str] = "logs"
    authz_actions = staticmethod(logs_actions)  # type: ignore[assignment]

    def __init__(self, db: Database, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock  # epoch ms; PutLogEvents judges "too old/new" against it

    # --- log groups -------------------------------------------------------------------------

    def create_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["logGroupName"]
        if name.startswith("aws/"):
            raise invalid("Log group names can't start with the string aws/.")
        tags = params.get("tags") or {}
        if len(tags) > MAX_TAGS:
            raise invalid(f"A log group can have at most {MAX_TAGS} tags.")
        exists = ServiceError(
            "ResourceAlreadyExistsException", "The specified log group already exists.", 400
        )
        with _unique(exists), self.db.write() as s:
            if find_group(s, ctx.account_id, ctx.region, name) is not None:
                raise exists
            s.add(
                LogGroup(
                    account_id=ctx.account_id,
                    region=ctx.region,
                    name=name,
                    created_at=utcnow(),
                    kms_key_id=params.get("kmsKeyId"),
                    log_group_class=params.get("logGroupClass") or "STANDARD",
                    deletion_protection=bool(params.get("deletionProtectionEnabled", False)),
                    tags=dict(tags),
                )
            )
        return {}

    def delete_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            group = get_group(s, ctx.account_id, ctx.region, params["logGroupName"])
            if group.deletion_protection:
                raise ServiceError(
                    "ValidationException",
                    "Log group deletion is not allowed while deletion protection is enabled.",
                    400,
                )
            s.execute(delete(LogEvent).where(LogEvent.group_id == group.id))
            s.execute(delete(LogStream).where(LogStream.group_id == group.id))
            s.delete(group)
        return {}

    def describe_log_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix, pattern = params.get("logGroupNamePrefix"), params.get("logGroupNamePattern")
        if prefix and pattern:
            raise invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        lite = bool(pattern)
        sqlite = self.db.is_sqlite
        name_key = ordered(LogGroup.name, sqlite)
        conds = [LogGroup.account_id == ctx.account_id, LogGroup.region == ctx.region]
        if prefix:
            conds.append(has_prefix(LogGroup.name, prefix, sqlite))
        if pattern:
            conds.append(contains(LogGroup.name, pattern, sqlite))
        if params.get("logGroupClass"):
            conds.append(LogGroup.log_group_class == params["logGroupClass"])
        if params.get("logGroupIdentifiers"):
            conds.append(LogGroup.name.in_([self._ident_name(i) for i in params["logGroupIdentifiers"]]))
        if params.get("nextToken"):
            (last,) = self._token(params["nextToken"], "dlg", 1)
            conds.append(name_key > last)
        limit = params.get("limit") or DEFAULT_PAGE
        with self.db.read() as s:
            groups = s.scalars(select(LogGroup).where(*conds).order_by(name_key).limit(limit + 1)).all()
        out: dict[str, Any] = {"logGroups": [self._group_out(g, lite) for g in groups[:limit]]}
        if len(groups) > limit:
            out["nextToken"] = encode_token("dlg", groups[limit - 1].name)
        return out

    def put_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in RETENTION_DAYS)
            raise invalid(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{allowed}]"
            )
        with self.db.write() as s:
            get_group(s, ctx.account_id, ctx.region, params["logGroupName"]).retention_in_days = days
        return {}

    def delete_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            get_group(s, ctx.account_id, ctx.region, params["logGroupName"]).retention_in_days = None
        return {}

    # --- log streams ------------------------------------------------------------------------

    def create_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        exists = ServiceError(
            "ResourceAlreadyExistsException", "The specified log stream already exists.", 400
        )
        with _unique(exists), self.db.write() as s:
            group = get_group(s, ctx.account_id, ctx.region, params["logGroupName"])
            found = s.scalar(
                select(LogStream.id).where(
                    LogStream.group_id == group.id, LogStream.name == params["logStreamName"]
                )
            )
            if found is not None:
                raise exists
            s.add(LogStream(group_id=group.id, name=params["logStreamName"], created_at=utcnow()))
        return {}

    def delete_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            group = get_group(s, ctx.account_id, ctx.region, params["logGroupName"])
            stream = get_stream(s, group, params["logStreamName"])
            s.execute(delete(LogEvent).where(LogEvent.stream_id == stream.id))
            group.stored_bytes = max(0, group.stored_bytes - stream.stored_bytes)
            s.delete(stream)
        return {}

    def describe_log_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group_name = group_name_param(params, ctx.account_id, ctx.region)
        by_time = params.get("orderBy", "LogStreamName") == "LastEventTime"
        prefix = params.get("logStreamNamePrefix")
        if by_time and prefix:
            raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        desc = bool(params.get("descending", False))
        limit = params.get("limit") or DEFAULT_PAGE
        name_key = ordered(LogStream.name, self.db.is_sqlite)
        with self.db.read() as s:
            group = get_group(s, ctx.account_id, ctx.region, group_name)
            conds = [LogStream.group_id == group.id]
            if prefix:
                conds.append(has_prefix(LogStream.name, prefix, self.db.is_sqlite))
            keys = (LogStream.last_event_order, name_key) if by_time else (name_key,)
            if params.get("nextToken"):
                values = self._token(params["nextToken"], "dls", len(keys))
                conds.append(_keyset(keys, values, desc))
            order = [k.desc() if desc else k for k in keys]
            streams = s.scalars(select(LogStream).where(*conds).order_by(*order).limit(limit + 1)).all()
        out: dict[str, Any] = {"logStreams": [self._stream_out(group, st) for st in streams[:limit]]}
        if len(streams) > limit:
            last = streams[limit - 1]
            values = [last.last_event_order, last.name] if by_time else [last.name]
            out["nextToken"] = encode_token("dls", *values)
        return out

    # --- events -----------------------------------------------------------------------------

    def put_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        batch = params["logEvents"]
        with self.db.write() as s:
            group = get_group(s, ctx.account_id, ctx.region, params["logGroupName"])
            stream = get_stream(s, group, params["logStreamName"])
            lo, hi, rejected = ev.check_batch(batch, self.clock(), group.retention_in_days)
            out: dict[str, Any] = {}
            if hi > lo:
                accepted = [(int(e["timestamp"]), e["message"]) for e in batch[lo:hi]]
                out["nextSequenceToken"] = _seq_token(store_events(s, group.id, stream.id, accepted))
        if rejected:
            out["rejectedLogEventsInfo"] = rejected
        return out

    def get_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group_name = group_name_param(params, ctx.account_id, ctx.region)
        with self.db.read() as s:
            group = get_group(s, ctx.account_id, ctx.region, group_name)
            stream = get_stream(s, group, params["logStreamName"])
            return ev.get_log_events(s, stream.id, params)

    def filter_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group_name = group_name_param(params, ctx.account_id, ctx.region)
        with self.db.read() as s:
            group = get_group(s, ctx.account_id, ctx.region, group_name)
            return ev.filter_log_events(s, group, params, self.db.is_sqlite)

    # --- tags -------------------------------------------------------------------------------

    def tag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._tag(ctx, params["logGroupName"], params["tags"], [])
        return {}

    def untag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._tag(ctx, params["logGroupName"], {}, params["tags"])
        return {}

    def list_tags_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            return {"tags": dict(get_group(s, ctx.account_id, ctx.region, params["logGroupName"]).tags)}

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._tag(ctx, self._arn_name(ctx, params["resourceArn"]), params["tags"], [])
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._tag(ctx, self._arn_name(ctx, params["resourceArn"]), {}, params["tagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self._arn_name(ctx, params["resourceArn"])
        with self.db.read() as s:
            return {"tags": dict(get_group(s, ctx.account_id, ctx.region, name).tags)}

    # --- helpers ----------------------------------------------------------------------------

    def _tag(self, ctx: RequestContext, name: str, add: dict[str, str], remove: list[str]) -> None:
        with self.db.write() as s:
            group = get_group(s, ctx.account_id, ctx.region, name)
            tags = {k: v for k, v in {**group.tags, **add}.items() if k not in remove}
            if len(tags) > MAX_TAGS:
                raise ServiceError(
                    "TooManyTagsException",
                    f"A resource can have no more than {MAX_TAGS} tags.",
                    400,
                    fields={"resourceName": group.arn()},
                )
            group.tags = tags

    @staticmethod
    def _arn_name(ctx: RequestContext, arn: str) -> str:
        parsed = parse_group_arn(arn)
        if parsed is None:
            raise invalid(f"Invalid resource ARN: {arn}")
        region, account, name = parsed
        if (region, account) != (ctx.region, ctx.account_id):
            raise group_not_found()
        return name

    @staticmethod
    def _ident_name(ident: str) -> str:
        parsed = parse_group_arn(ident) if ident.startswith("arn:") else None
        return parsed[2] if parsed else ident

    @staticmethod
    def _token(token: str, kind: str, count: int) -> list[Any]:
        values = decode_token(token, kind)
        if len(values) != count:
            raise invalid("The specified nextToken is invalid.")
        return values

    @staticmethod
    def _group_out(g: LogGroup, lite: bool) -> dict[str, Any]:
        arn = g.arn()
        out: dict[str, Any] = {
            "logGroupName": g.name,
            "creationTime": to_ms(g.created_at),
            "arn": f"{arn}:*",
        }
        if lite:  # logGroupNamePattern: only name, creation time and ARN
            return out
        if g.retention_in_days is not None:
            out["retentionInDays"] = g.retention_in_days
        out["metricFilterCount"] = 0
        out["storedBytes"] = g.stored_bytes
        if g.kms_key_id:
            out["kmsKeyId"] = g.kms_key_id
        out["logGroupClass"] = g.log_group_class
        out["logGroupArn"] = arn
        out["deletionProtectionEnabled"] = g.deletion_protection
        return out

    @staticmethod
    def _stream_out(group: LogGroup, st: LogStream) -> dict[str, Any]:
        out: dict[str, Any] = {"logStreamName": st.name, "creationTime": to_ms(st.created_at)}
        if st.first_event_ts is not None:
            out["firstEventTimestamp"] = st.first_event_ts
        if st.last_event_ts is not None:
            out["lastEventTimestamp"] = st.last_event_ts
        if st.last_ingestion_ms is not None:
            out["lastIngestionTime"] = st.last_ingestion_ms
        if st.upload_count:
            out["uploadSequenceToken"] = _seq_token(st.upload_count)
        out["arn"] = f"{group.arn()}:log-stream:{st.name}"
        out["storedBytes"] = 0  # AWS has reported 0 for streams since 2019
        return out


@contextmanager
def _unique(error: ServiceError) -> Iterator[None]:
    """Turn a unique-constraint race (two concurrent creates on PostgreSQL) into `error`."""
    try:
        yield
    except IntegrityError:
        raise error from None


def _keyset(keys: tuple[Any, ...], values: list[Any], desc: bool) -> Any:
    """Rows after `values` in the lexicographic order of `keys` (before them when `desc`)."""
    clauses = []
    for i, key in enumerate(keys):
        eq = [keys[j] == values[j] for j in range(i)]
        clauses.append(and_(*eq, key < values[i] if desc else key > values[i]))
    return or_(*clauses)
