"""The internal log writer other services use: append_events, BufferedLogWriter, expire_events."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sagelocal.services.logs import BufferedLogWriter, LogsProvider, append_events
from sagelocal.services.logs.writer import expire_events
from sagelocal.store.db import Database
from tests.unit.logs_support import ACCOUNT, REGION, Logs, make_ctx, make_db, now_ms

GROUP = "/aws/sagemaker/TrainingJobs"
STREAM = "job-1/algo-1-1700000000"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return make_db(tmp_path)


@pytest.fixture
def logs(db: Database) -> Logs:
    return Logs(LogsProvider(db), make_ctx())


def read_all(logs: Logs, stream: str = STREAM) -> list[str]:
    """Every message of the stream, following forward tokens until the token repeats."""
    got: list[str] = []
    params = {"logGroupName": GROUP, "logStreamName": stream, "startFromHead": True}
    out = logs("GetLogEvents", **params)
    while out["events"]:
        got += [e["message"] for e in out["events"]]
        out = logs("GetLogEvents", **params, nextToken=out["nextForwardToken"])
    return got


def test_append_creates_group_and_stream(db: Database, logs: Logs) -> None:
    t = now_ms()
    assert (
        append_events(db, ACCOUNT, REGION, GROUP, STREAM, [(t, "Starting"), (t + 1, "[0]\ttrain-rmse:0.4")])
        == 2
    )
    assert [g["logGroupName"] for g in logs("DescribeLogGroups")["logGroups"]] == [GROUP]
    (stream,) = logs("DescribeLogStreams", logGroupName=GROUP, logStreamNamePrefix="job-1/")["logStreams"]
    assert (stream["logStreamName"], stream["firstEventTimestamp"], stream["lastEventTimestamp"]) == (
        STREAM,
        t,
        t + 1,
    )
    assert read_all(logs) == ["Starting", "[0]\ttrain-rmse:0.4"]
    append_events(db, ACCOUNT, REGION, GROUP, STREAM, [(t + 2, "done")])
    assert read_all(logs) == ["Starting", "[0]\ttrain-rmse:0.4", "done"]
    assert logs("DescribeLogGroups")["logGroups"][0]["storedBytes"] == len("Starting[0]\ttrain-rmse:0.4done")


def test_append_to_existing_group_and_scoping(db: Database, logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName=GROUP)
    append_events(db, ACCOUNT, REGION, GROUP, "a", [(now_ms(), "x")])
    append_events(db, ACCOUNT, "us-west-2", GROUP, "a", [(now_ms(), "elsewhere")])
    assert read_all(logs, "a") == ["x"]
    other = Logs(logs.provider, make_ctx(region="us-west-2"))
    out = other("GetLogEvents", logGroupName=GROUP, logStreamName="a", startFromHead=True)
    assert [e["message"] for e in out["events"]] == ["elsewhere"]


def test_append_sorts_drops_empty_and_splits_huge(db: Database, logs: Logs) -> None:
    t = now_ms() - 1000
    huge = "é" * 600_000  # 1.2 MB of UTF-8: two events
    stored = append_events(
        db, ACCOUNT, REGION, GROUP, STREAM, [(t + 5, "b"), (t, "a"), (t + 5, ""), (t + 9, huge)]
    )
    assert stored == 4
    got = read_all(logs)
    assert got[:2] == ["a", "b"] and "".join(got[2:]) == huge
    assert all(len(m.encode()) <= 1_048_576 - 26 for m in got)
    assert append_events(db, ACCOUNT, REGION, GROUP, "empty", []) == 0
    assert logs("DescribeLogStreams", logGroupName=GROUP, logStreamNamePrefix="empty")["logStreams"]


def test_no_quotas_for_internal_writes(db: Database, logs: Logs) -> None:
    old = now_ms() - 30 * 86_400_000
    append_events(db, ACCOUNT, REGION, GROUP, STREAM, [(old, "old"), (old + 3 * 86_400_000, "later")])
    assert read_all(logs) == ["old", "later"]


def test_concurrent_appends_all_land_in_order_per_writer(db: Database, logs: Logs) -> None:
    t = now_ms()

    def work(w: int) -> None:
        for i in range(20):
            append_events(db, ACCOUNT, REGION, GROUP, STREAM, [(t, f"w{w}-{i}")])

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    got = read_all(logs)
    assert len(got) == 80
    for w in range(4):
        assert [m for m in got if m.startswith(f"w{w}-")] == [f"w{w}-{i}" for i in range(20)]


def test_buffered_writer_batches(db: Database, logs: Logs) -> None:
    with BufferedLogWriter(db, ACCOUNT, REGION, GROUP, STREAM, max_events=3, max_delay=60) as w:
        w.write("one\n")
        w.write("two\n")
        with pytest.raises(Exception):  # noqa: B017 - nothing written yet: the group does not exist
            read_all(logs)
        w.write("three\n")  # the third line fills the batch
        assert read_all(logs) == ["one", "two", "three"]
        w.write("four", timestamp_ms=now_ms())
    assert read_all(logs) == ["one", "two", "three", "four"]  # flushed on close


def test_buffered_writer_flushes_by_age(db: Database, logs: Logs) -> None:
    w = BufferedLogWriter(db, ACCOUNT, REGION, GROUP, STREAM, max_events=1000, max_delay=0.05)
    w.write("first")
    time.sleep(0.06)
    w.write("second")
    assert read_all(logs) == ["first", "second"]
    assert w.flush() == 0


def test_expire_events(db: Database, logs: Logs) -> None:
    now = now_ms()
    append_events(db, ACCOUNT, REGION, GROUP, STREAM, [(now - 3 * 86_400_000, "old"), (now, "new")])
    append_events(db, ACCOUNT, REGION, "/keep", "s", [(now - 3 * 86_400_000, "kept")])
    assert expire_events(db, now) == 0  # no retention set
    logs("PutRetentionPolicy", logGroupName=GROUP, retentionInDays=1)
    assert expire_events(db, now) == 1
    assert read_all(logs) == ["new"]
    (stream,) = logs("DescribeLogStreams", logGroupName=GROUP)["logStreams"]
    assert stream["firstEventTimestamp"] == now
    groups = {g["logGroupName"]: g for g in logs("DescribeLogGroups")["logGroups"]}
    assert groups[GROUP]["storedBytes"] == 3 and groups["/keep"]["storedBytes"] == 4


def test_many_small_appends_are_cheap(db: Database) -> None:
    start = time.perf_counter()
    for i in range(200):
        append_events(db, ACCOUNT, REGION, GROUP, STREAM, [(now_ms(), f"line {i}")])
    per_append = (time.perf_counter() - start) / 200
    assert per_append < 0.05, per_append  # one short transaction each
