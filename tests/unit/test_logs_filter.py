"""CloudWatch Logs FilterLogEvents: patterns, stream selection, time windows, paging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sagelocal.services.logs import LogsProvider
from sagelocal.services.logs.patterns import compile_pattern
from sagelocal.store.db import Database
from tests.unit.logs_support import Logs, captured_sql, make_ctx, make_db, now_ms, query_plans

HOUR = 3600 * 1000

LINES = [
    "[ERROR] A fatal exception has occurred",
    "[WARN] disk almost full",
    "[INFO] Exception handled: retrying",
    "error: lower case only",
    'quoted "phrase" here: Exception: Timeout',
    "ERROR Exception in MainThread",
]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return make_db(tmp_path)


@pytest.fixture
def logs(db: Database) -> Logs:
    logs = Logs(LogsProvider(db), make_ctx())
    logs("CreateLogGroup", logGroupName="g")
    return logs


def put_lines(logs: Logs, stream: str, lines: list[str], t0: int) -> None:
    logs("CreateLogStream", logGroupName="g", logStreamName=stream)
    logs.put("g", stream, [(t0 + i, line) for i, line in enumerate(lines)])


def filt(logs: Logs, **params: Any) -> list[str]:
    return [e["message"] for e in logs("FilterLogEvents", logGroupName="g", **params)["events"]]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", [0, 1, 2, 3, 4, 5]),
        ("   ", [0, 1, 2, 3, 4, 5]),
        ("ERROR", [0, 5]),
        ("error", [3]),
        ("ERROR Exception", [5]),
        ("Exception ERROR", [5]),
        ('"Exception: Timeout"', [4]),
        ('"fatal exception"', [0]),
        ("?WARN ?error", [1, 3]),
        ("?WARN ?error ?nothing", [1, 3]),
        ("Exception -ERROR", [2, 4]),
        ('-"Exception"', [0, 1, 3]),
        ("%[Ee]rror%", [3]),
        ("%E[A-Z]+R%", [0, 5]),
        ("%^\\[(WARN|INFO)\\]%", [1, 2]),
    ],
)
def test_term_and_regex_patterns(logs: Logs, pattern: str, expected: list[int]) -> None:
    put_lines(logs, "s", LINES, now_ms() - HOUR)
    assert filt(logs, filterPattern=pattern) == [LINES[i] for i in expected]


def test_json_patterns(logs: Logs) -> None:
    docs = [
        {"level": "ERROR", "latency": 1200, "user": {"id": "u-1"}, "ok": False},
        {"level": "INFO", "latency": 15, "user": {"id": "u-2"}, "ok": True, "tags": ["a", "b"]},
        {"level": "ERROR", "latency": 3, "ok": None},
    ]
    put_lines(logs, "s", [json.dumps(d) for d in docs] + ["not json ERROR"], now_ms() - HOUR)
    cases = {
        '{ $.level = "ERROR" }': [0, 2],
        "{ $.level = ERR* }": [0, 2],
        '{ $.level != "ERROR" }': [1],
        "{ $.latency > 1000 }": [0],
        "{ $.latency <= 15 && $.level = INFO }": [1],
        '{ ($.latency > 1000 || $.ok IS TRUE) && $.user.id = "u-*" }': [0, 1],
        "{ $.user.id NOT EXISTS }": [2],
        "{ $.tags[1] = b }": [1],
        "{ $.ok IS NULL }": [2],
        "{ $.ok IS FALSE }": [0],
    }
    for pattern, expected in cases.items():
        got = filt(logs, filterPattern=pattern)
        assert got == [json.dumps(docs[i]) for i in expected], pattern


@pytest.mark.parametrize("pattern", ['"unterminated', "{ $.a = }", "{ level = 1 }", "[a, b]", "%(%"])
def test_bad_patterns(logs: Logs, pattern: str) -> None:
    err = logs.error("FilterLogEvents", logGroupName="g", filterPattern=pattern)
    assert err.code == "InvalidParameterException"


def test_pattern_sql_prefilter_agrees_with_matches() -> None:
    for text in ["ERROR", "?a ?b", "-x y", '"a b"']:
        assert compile_pattern(text).sql(object(), True) is not None
    for text in ["", "%x%", "{ $.a = 1 }"]:
        assert compile_pattern(text).sql(object(), True) is None


def test_interleaves_streams_by_time_with_names_and_ids(logs: Logs) -> None:
    t0 = now_ms() - HOUR
    put_lines(logs, "b", ["b0", "b2"], t0)
    logs.put("g", "b", [(t0 + 2, "b4")])
    logs("CreateLogStream", logGroupName="g", logStreamName="a")
    logs.put("g", "a", [(t0, "a0"), (t0 + 1, "a1"), (t0 + 3, "a3")])
    out = logs("FilterLogEvents", logGroupName="g")
    assert [(e["logStreamName"], e["message"]) for e in out["events"]] == [
        ("b", "b0"), ("a", "a0"), ("b", "b2"), ("a", "a1"), ("b", "b4"), ("a", "a3"),
    ]  # fmt: skip
    ids = [e["eventId"] for e in out["events"]]
    assert len(set(ids)) == 6 and all(i.isdigit() for i in ids)
    assert "searchedLogStreams" not in out and "nextToken" not in out


def test_stream_selection(logs: Logs) -> None:
    t0 = now_ms() - HOUR
    for name in ["AllTraffic/i-1", "AllTraffic/i-2", "Other/i-1"]:
        put_lines(logs, name, [f"{name} up"], t0)
    assert filt(logs, logStreamNamePrefix="AllTraffic/") == ["AllTraffic/i-1 up", "AllTraffic/i-2 up"]
    assert filt(logs, logStreamNamePrefix="alltraffic/") == []
    assert filt(logs, logStreamNames=["Other/i-1", "missing"]) == ["Other/i-1 up"]
    err = logs.error("FilterLogEvents", logGroupName="g", logStreamNames=["a"], logStreamNamePrefix="a")
    assert err.code == "InvalidParameterException"
    err = logs.error("FilterLogEvents", logGroupName="nope")
    assert (err.code, err.message) == ("ResourceNotFoundException", "The specified log group does not exist.")


def test_time_window_is_inclusive(logs: Logs) -> None:
    t0 = now_ms() - HOUR
    put_lines(logs, "s", [f"e{i}" for i in range(10)], t0)
    assert filt(logs, startTime=t0 + 2, endTime=t0 + 4) == ["e2", "e3", "e4"]
    assert filt(logs, startTime=t0 + 8) == ["e8", "e9"]


def test_newest_first(logs: Logs) -> None:
    t0 = now_ms() - HOUR
    put_lines(logs, "s", [f"e{i}" for i in range(5)], t0)
    assert filt(logs, startFromHead=False, startTime=t0) == ["e4", "e3", "e2", "e1", "e0"]


def page_all(logs: Logs, **params: Any) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    token = None
    for _ in range(1000):
        out = logs("FilterLogEvents", logGroupName="g", **params, **({"nextToken": token} if token else {}))
        seen += [(e["logStreamName"], e["message"]) for e in out["events"]]
        token = out.get("nextToken")
        if token is None:
            return seen
        assert len(out["events"]) == params["limit"]
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("streams", [3, 30])  # merged per-stream scans, and the group-index scan
@pytest.mark.parametrize("head", [True, False])
@pytest.mark.parametrize("limit", [1, 4, 10])
def test_paging_reaches_every_event_once(logs: Logs, streams: int, head: bool, limit: int) -> None:
    t0 = now_ms() - HOUR
    expected: list[tuple[int, int, str, str]] = []
    for s in range(streams):
        name = f"p/{s:02d}"
        lines = [f"{name} n{i}" + (" hit" if (i + s) % 2 else "") for i in range(4)]
        put_lines(logs, name, lines, t0 + s % 3)
        expected += [(t0 + s % 3 + i, s, name, line) for i, line in enumerate(lines)]
    expected.sort(key=lambda e: (e[0], e[1]), reverse=not head)
    want = [(name, line) for _, _, name, line in expected]
    params: dict[str, Any] = {"limit": limit, "startFromHead": head, "startTime": t0}
    assert page_all(logs, **params) == want
    assert page_all(logs, logStreamNamePrefix="p/", **params) == want
    assert page_all(logs, filterPattern="hit", **params) == [w for w in want if w[1].endswith("hit")]
    assert page_all(logs, filterPattern="%hit$%", **params) == [w for w in want if w[1].endswith("hit")]


def test_limit_and_no_spurious_token(logs: Logs) -> None:
    put_lines(logs, "s", [f"e{i}" for i in range(10)], now_ms() - HOUR)
    out = logs("FilterLogEvents", logGroupName="g", limit=10)
    assert len(out["events"]) == 10 and "nextToken" not in out
    out = logs("FilterLogEvents", logGroupName="g", limit=9)
    assert len(out["events"]) == 9 and "nextToken" in out
    out = logs("FilterLogEvents", logGroupName="g", filterPattern="e9", limit=1)
    assert len(out["events"]) == 1 and "nextToken" not in out
    assert (
        logs.error("FilterLogEvents", logGroupName="g", nextToken="bad").code == "InvalidParameterException"
    )


def test_filter_uses_indexes(db: Database, logs: Logs) -> None:
    t0 = now_ms() - HOUR
    for s in range(3):
        put_lines(logs, f"s{s}", [f"line {i}" for i in range(20)], t0)
    for params in [{}, {"logStreamNamePrefix": "s"}, {"logStreamNames": ["s1"], "filterPattern": "line"}]:
        with captured_sql(db) as seen:
            logs("FilterLogEvents", logGroupName="g", limit=5, **params)
        plans = query_plans(db, seen, "logs_events")
        assert plans and all("ix_logs_events_" in p for p in plans), plans
        assert not any("TEMP B-TREE" in p for p in plans), plans
