"""CloudWatch Logs events: PutLogEvents rules and GetLogEvents reading and token paging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sagelocal.services.logs import LogsProvider
from sagelocal.store.db import Database
from tests.unit.logs_support import Logs, captured_sql, make_ctx, make_db, now_ms, query_plans

HOUR = 3600 * 1000
DAY = 24 * HOUR


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return make_db(tmp_path)


@pytest.fixture
def logs(db: Database) -> Logs:
    logs = Logs(LogsProvider(db), make_ctx())
    logs("CreateLogGroup", logGroupName="g")
    logs("CreateLogStream", logGroupName="g", logStreamName="s")
    return logs


def get(logs: Logs, **params: Any) -> dict[str, Any]:
    return logs("GetLogEvents", logGroupName="g", logStreamName="s", **params)


def messages(out: dict[str, Any]) -> list[str]:
    return [e["message"] for e in out["events"]]


def fill(logs: Logs, count: int, t0: int | None = None) -> int:
    t0 = now_ms() - HOUR if t0 is None else t0
    logs.put("g", "s", [(t0 + i, f"line {i}") for i in range(count)])
    return t0


# --- PutLogEvents ----------------------------------------------------------------------------


def test_put_then_get_from_head_and_tail(logs: Logs) -> None:
    t0 = fill(logs, 5)
    out = get(logs, startFromHead=True)
    assert messages(out) == [f"line {i}" for i in range(5)]
    assert [e["timestamp"] for e in out["events"]] == [t0 + i for i in range(5)]
    assert all(t0 <= e["ingestionTime"] <= now_ms() for e in out["events"])
    assert messages(get(logs)) == messages(out)  # the tail of a short stream is all of it
    assert messages(get(logs, limit=2)) == ["line 3", "line 4"]  # latest, ascending
    assert messages(get(logs, limit=2, startFromHead=True)) == ["line 0", "line 1"]
    for token in (out["nextForwardToken"], out["nextBackwardToken"]):
        assert token[:2] in ("f/", "b/") and token[2:].isdigit() and len(token) == 58


def test_put_returns_sequence_tokens_and_ignores_given_ones(logs: Logs) -> None:
    t = now_ms()
    first = logs.put("g", "s", [(t, "a")])
    assert set(first) == {"nextSequenceToken"}
    second = logs(
        "PutLogEvents", logGroupName="g", logStreamName="s", sequenceToken="bogus",
        logEvents=[{"timestamp": t, "message": "b"}],
    )  # fmt: skip
    assert second["nextSequenceToken"] != first["nextSequenceToken"]
    assert messages(get(logs, startFromHead=True)) == ["a", "b"]


def test_put_missing_group_or_stream(logs: Logs) -> None:
    batch = [{"timestamp": now_ms(), "message": "x"}]
    err = logs.error("PutLogEvents", logGroupName="nope", logStreamName="s", logEvents=batch)
    assert (err.code, err.message) == ("ResourceNotFoundException", "The specified log group does not exist.")
    err = logs.error("PutLogEvents", logGroupName="g", logStreamName="nope", logEvents=batch)
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    err = logs.error("GetLogEvents", logGroupName="g", logStreamName="nope")
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )


def test_batch_must_be_chronological_and_within_24h(logs: Logs) -> None:
    t = now_ms() - 2 * DAY
    err = logs.error("PutLogEvents", logGroupName="g", logStreamName="s",
                     logEvents=[{"timestamp": t + 1, "message": "b"}, {"timestamp": t, "message": "a"}])  # fmt: skip
    assert (err.code, err.message) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    )
    err = logs.error("PutLogEvents", logGroupName="g", logStreamName="s",
                     logEvents=[{"timestamp": t, "message": "a"}, {"timestamp": t + DAY + 1, "message": "b"}])  # fmt: skip
    assert err.code == "InvalidParameterException" and "cannot span more than 24 hours" in err.message
    logs.put("g", "s", [(t, "a"), (t + DAY, "b")])  # exactly 24 h is fine
    assert messages(get(logs, startFromHead=True)) == ["a", "b"]


def test_batch_byte_limits(logs: Logs) -> None:
    t = now_ms()
    big = "x" * (1_048_576 - 26)  # exactly one full-size event
    assert "nextSequenceToken" in logs.put("g", "s", [(t, big)])
    err = logs.error("PutLogEvents", logGroupName="g", logStreamName="s",
                     logEvents=[{"timestamp": t, "message": big + "y"}])  # fmt: skip
    assert err.code == "InvalidParameterException" and "exceeds limit of 1048576" in err.message
    half = "é" * 200_000  # 400,000 UTF-8 bytes each
    err = logs.error("PutLogEvents", logGroupName="g", logStreamName="s",
                     logEvents=[{"timestamp": t, "message": half}] * 3)  # fmt: skip
    assert (err.code, err.message) == (
        "InvalidParameterException",
        "Upload too large: 1200078 bytes exceeds limit of 1048576",
    )
    # 10,000 tiny events fit (10,000 * 27 bytes).
    assert "nextSequenceToken" in logs.put("g", "s", [(t, "z")] * 10_000)


def test_too_old_and_too_new_events_are_rejected_not_errors(db: Database) -> None:
    clock = 1_800_000_000_000
    logs = Logs(LogsProvider(db, clock=lambda: clock), make_ctx())
    logs("CreateLogGroup", logGroupName="g")
    logs("CreateLogStream", logGroupName="g", logStreamName="s")
    old, new = clock - 15 * DAY, clock + 3 * HOUR
    out = logs.put("g", "s", [(old, "o1"), (old + 1, "o2"), (clock - HOUR, "ok"), (new, "n1")])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2, "tooNewLogEventStartIndex": 3}
    assert "nextSequenceToken" in out
    assert messages(get(logs, startFromHead=True)) == ["ok"]
    only_new = logs.put("g", "s", [(new, "n")])
    assert only_new == {"rejectedLogEventsInfo": {"tooNewLogEventStartIndex": 0}}
    logs("PutRetentionPolicy", logGroupName="g", retentionInDays=1)
    out = logs.put("g", "s", [(clock - 2 * DAY, "expired"), (clock, "fresh")])
    assert out["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    assert messages(get(logs, startFromHead=True)) == ["ok", "fresh"]


def test_equal_timestamps_keep_order_and_late_batches_sort_by_time(logs: Logs) -> None:
    t = now_ms() - HOUR
    logs.put("g", "s", [(t + 10, "c1"), (t + 10, "c2"), (t + 10, "c3")])
    logs.put("g", "s", [(t, "a"), (t + 20, "d")])
    logs.put("g", "s", [(t + 10, "c4")])
    assert messages(get(logs, startFromHead=True)) == ["a", "c1", "c2", "c3", "c4", "d"]


# --- GetLogEvents ----------------------------------------------------------------------------


def test_time_window(logs: Logs) -> None:
    t0 = fill(logs, 10)
    out = get(logs, startFromHead=True, startTime=t0 + 3, endTime=t0 + 6)  # start inclusive, end exclusive
    assert messages(out) == ["line 3", "line 4", "line 5"]
    assert messages(get(logs, startTime=t0 + 8)) == ["line 8", "line 9"]
    assert messages(get(logs, endTime=t0 + 2, startFromHead=True)) == ["line 0", "line 1"]
    assert get(logs, startTime=t0 + 100)["events"] == []


@pytest.mark.parametrize("limit", [1, 3, 7, 25])
def test_forward_paging_to_exhaustion_then_stable_token(logs: Logs, limit: int) -> None:
    fill(logs, 23)
    seen: list[str] = []
    out = get(logs, startFromHead=True, limit=limit)
    while out["events"]:
        seen += messages(out)
        token = out["nextForwardToken"]
        out = get(logs, startFromHead=True, limit=limit, nextToken=token)
    assert seen == [f"line {i}" for i in range(23)]
    assert out["nextForwardToken"] == token  # the end: the same token comes back
    assert get(logs, startFromHead=True, nextToken=token)["nextForwardToken"] == token
    # New events show up behind the same token (what tailing relies on).
    logs.put("g", "s", [(now_ms(), "late")])
    assert messages(get(logs, startFromHead=True, nextToken=token)) == ["late"]


@pytest.mark.parametrize("limit", [1, 4, 23, 50])
def test_backward_paging_to_exhaustion(logs: Logs, limit: int) -> None:
    fill(logs, 23)
    pages: list[list[str]] = []
    out = get(logs, limit=limit)
    while out["events"]:
        pages.append(messages(out))
        token = out["nextBackwardToken"]
        out = get(logs, limit=limit, nextToken=token)
    assert out["nextBackwardToken"] == token
    assert [m for page in reversed(pages) for m in page] == [f"line {i}" for i in range(23)]
    # Turning around at the head: forward from the exhausted backward token replays from the start.
    forward = get(logs, startFromHead=True, limit=5, nextToken=out["nextForwardToken"])
    assert messages(forward) == [f"line {i}" for i in range(5)]


def test_direction_switch_mid_stream(logs: Logs) -> None:
    fill(logs, 10)
    middle = get(
        logs,
        startFromHead=True,
        limit=4,
        nextToken=get(logs, startFromHead=True, limit=3)["nextForwardToken"],
    )
    assert messages(middle) == ["line 3", "line 4", "line 5", "line 6"]
    back = get(logs, limit=10, nextToken=middle["nextBackwardToken"])
    assert messages(back) == ["line 0", "line 1", "line 2"]
    ahead = get(logs, startFromHead=True, nextToken=middle["nextForwardToken"])
    assert messages(ahead) == ["line 7", "line 8", "line 9"]


def test_empty_stream_tokens(logs: Logs) -> None:
    for head in (True, False):
        out = get(logs, startFromHead=head)
        assert out["events"] == [] and out["nextForwardToken"] and out["nextBackwardToken"]
        logs.put("g", "s", [(now_ms(), f"first-{head}")])
        assert messages(get(logs, startFromHead=True, nextToken=out["nextForwardToken"])) == [f"first-{head}"]
        logs("DeleteLogStream", logGroupName="g", logStreamName="s")
        logs("CreateLogStream", logGroupName="g", logStreamName="s")


def test_page_is_capped_at_one_megabyte(logs: Logs) -> None:
    t = now_ms() - HOUR
    chunk = "m" * 300_000
    for i in range(7):
        logs.put("g", "s", [(t + i, f"{i}{chunk}")])
    first = get(logs, startFromHead=True)
    assert len(first["events"]) == 3  # 4 x 300 KB would pass 1 MB
    seen = [e["message"][0] for e in first["events"]]
    out = get(logs, startFromHead=True, nextToken=first["nextForwardToken"])
    while out["events"]:
        seen += [e["message"][0] for e in out["events"]]
        out = get(logs, startFromHead=True, nextToken=out["nextForwardToken"])
    assert seen == [str(i) for i in range(7)]
    assert [e["message"][0] for e in get(logs)["events"]] == ["4", "5", "6"]


def test_invalid_tokens(logs: Logs) -> None:
    for token in ["x", "f/123", "c/" + "0" * 56, "f/" + "0" * 55 + "a"]:
        assert logs.error("GetLogEvents", logGroupName="g", logStreamName="s", nextToken=token).code == (
            "InvalidParameterException"
        )


def test_get_log_events_by_identifier(logs: Logs) -> None:
    fill(logs, 2)
    arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:g:*"
    out = logs("GetLogEvents", logGroupIdentifier=arn, logStreamName="s", startFromHead=True)
    assert messages(out) == ["line 0", "line 1"]


def test_sagemaker_sdk_log_stream_reader(logs: Logs) -> None:
    """sagemaker.logs.log_stream (SDK v2) reads everything, then stops on the repeated token."""
    sagemaker_logs = pytest.importorskip("sagemaker.logs")

    class Client:
        def get_log_events(self, **params: Any) -> dict[str, Any]:
            return logs("GetLogEvents", **params)

    t0 = fill(logs, 25)
    got = list(sagemaker_logs.log_stream(Client(), "g", "s", start_time=t0))
    assert [e["message"] for e in got] == [f"line {i}" for i in range(25)]
    # The SDK's next poll: from the last timestamp, skipping the events already seen at it.
    logs.put("g", "s", [(now_ms(), "new")])
    again = list(sagemaker_logs.log_stream(Client(), "g", "s", start_time=t0 + 24, skip=1))
    assert [e["message"] for e in again] == ["new"]


def test_get_log_events_uses_stream_index(db: Database, logs: Logs) -> None:
    t0 = fill(logs, 50)
    token = get(logs, startFromHead=True, limit=5)["nextForwardToken"]
    for params in [
        {"startFromHead": True, "startTime": t0, "nextToken": token},
        {"limit": 5},
        {"startTime": t0, "endTime": t0 + 10, "startFromHead": True},
    ]:
        with captured_sql(db) as seen:
            get(logs, **params)
        plans = query_plans(db, seen, "logs_events")
        assert plans and all("ix_logs_events_stream_order" in p for p in plans), plans
        assert not any("TEMP B-TREE" in p for p in plans), plans
