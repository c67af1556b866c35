"""Helpers for the CloudWatch Logs unit tests: a provider on a temp SQLite store, shape checks."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from sqlalchemy import event

from sagelocal.services.base import RequestContext, ServiceError
from sagelocal.services.logs import LogsProvider
from sagelocal.store.db import Database
from sagelocal.store.models import Base

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
MODEL = botocore.session.get_session().get_service_model("logs")


def make_db(tmp_path: Path) -> Database:
    """A fresh store: SQLite in tmp_path, or `$SAGELOCAL_LOGS_TEST_DB` (e.g. a PostgreSQL URL)."""
    url = os.environ.get("SAGELOCAL_LOGS_TEST_DB")
    db = Database(url or f"sqlite:///{tmp_path}/t.db")
    if url:
        Base.metadata.drop_all(db.engine)
    Base.metadata.create_all(db.engine)
    return db


def make_ctx(operation: str = "Test", account: str = ACCOUNT, region: str = REGION) -> RequestContext:
    return RequestContext(
        service="logs",
        operation=operation,
        region=region,
        account_id=account,
        principal=None,
        request_id="req-1",
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Logs:
    """Calls provider operations by their AWS names and checks every output against the model."""

    def __init__(self, provider: LogsProvider, ctx: RequestContext) -> None:
        self.provider = provider
        self.ctx = ctx

    def __call__(self, op: str, **params: Any) -> dict[str, Any]:
        method = getattr(self.provider, botocore.xform_name(op))
        out = method(self.ctx, params)
        check_output(op, out)
        return out

    def error(self, op: str, **params: Any) -> ServiceError:
        with pytest.raises(ServiceError) as info:
            self(op, **params)
        return info.value

    def put(self, group: str, stream: str, events: list[tuple[int, str]]) -> dict[str, Any]:
        batch = [{"timestamp": ts, "message": msg} for ts, msg in events]
        return self("PutLogEvents", logGroupName=group, logStreamName=stream, logEvents=batch)


def check_output(op: str, out: dict[str, Any]) -> None:
    """`out` has every required member of the operation's output shape and nothing unknown."""
    shape = MODEL.operation_model(op).output_shape
    if shape is None:
        assert out == {}, f"{op} has no output members but returned {out}"
        return
    _check(shape, out, op)


def _check(shape: Shape, value: Any, where: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), where
        for name in shape.required_members:
            assert name in value, f"{where}: required member {name} missing"
        for name, member in value.items():
            assert name in shape.members, f"{where}: unknown member {name}"
            assert member is not None, f"{where}.{name} is None (omit absent members)"
            _check(shape.members[name], member, f"{where}.{name}")
    elif kind == "list":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check(shape.member, item, f"{where}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), where
        for k, v in value.items():
            assert isinstance(k, str), where
            _check(shape.value, v, f"{where}[{k}]")
    elif kind == "string":
        assert isinstance(value, str), where
        if "min" in shape.metadata:
            assert len(value) >= shape.metadata["min"], where
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif kind == "boolean":
        assert isinstance(value, bool), where


@contextmanager
def captured_sql(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every (statement, parameters) the engine executes inside the block."""
    seen: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def query_plans(db: Database, statements: list[tuple[str, Any]], table: str) -> list[str]:
    """SQLite's query plan details for the statements that read `table`."""
    if not db.is_sqlite:
        pytest.skip("query plans are checked on SQLite")
    plans: list[str] = []
    with db.engine.connect() as conn:
        for sql, params in statements:
            if f"FROM {table}" not in sql:
                continue
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
            plans.append(" | ".join(str(r[-1]) for r in rows))
    return plans
