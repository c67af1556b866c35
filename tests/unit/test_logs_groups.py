"""CloudWatch Logs log groups and streams: lifecycle, errors, Describe* filtering and paging, tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sagelocal.services.logs import LogsProvider
from sagelocal.store.db import Database
from tests.unit.logs_support import (
    ACCOUNT,
    REGION,
    Logs,
    captured_sql,
    make_ctx,
    make_db,
    now_ms,
    query_plans,
)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return make_db(tmp_path)


@pytest.fixture
def logs(db: Database) -> Logs:
    return Logs(LogsProvider(db), make_ctx())


def page_all(logs: Logs, op: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Follow nextToken to the end; checks a token is only given with a full page."""
    items: list[dict[str, Any]] = []
    token = None
    for _ in range(100):
        out = logs(op, **params, **({"nextToken": token} if token else {}))
        items += out[key]
        token = out.get("nextToken")
        if token is None:
            return items
        assert len(out[key]) == params.get("limit", 50)
    raise AssertionError("paging did not end")


# --- groups ----------------------------------------------------------------------------------


def test_group_lifecycle_and_errors(logs: Logs) -> None:
    before = now_ms()
    assert logs("CreateLogGroup", logGroupName="/aws/sagemaker/TrainingJobs") == {}
    err = logs.error("CreateLogGroup", logGroupName="/aws/sagemaker/TrainingJobs")
    assert (err.code, err.message, err.status) == (
        "ResourceAlreadyExistsException",
        "The specified log group already exists.",
        400,
    )
    (group,) = logs("DescribeLogGroups")["logGroups"]
    assert group["logGroupName"] == "/aws/sagemaker/TrainingJobs"
    assert group["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/TrainingJobs:*"
    assert group["logGroupArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/TrainingJobs"
    assert before - 1000 <= group["creationTime"] <= now_ms() + 1000
    assert group["storedBytes"] == 0 and "retentionInDays" not in group and "kmsKeyId" not in group

    assert logs("DeleteLogGroup", logGroupName="/aws/sagemaker/TrainingJobs") == {}
    assert logs("DescribeLogGroups") == {"logGroups": []}
    err = logs.error("DeleteLogGroup", logGroupName="/aws/sagemaker/TrainingJobs")
    assert (err.code, err.message) == ("ResourceNotFoundException", "The specified log group does not exist.")


def test_group_names_reserved_prefix_and_kms(logs: Logs) -> None:
    assert logs.error("CreateLogGroup", logGroupName="aws/mine").code == "InvalidParameterException"
    logs("CreateLogGroup", logGroupName="k", kmsKeyId="arn:aws:kms:ap-northeast-1:123456789012:key/x")
    assert logs("DescribeLogGroups")["logGroups"][0]["kmsKeyId"].endswith("key/x")


def test_groups_belong_to_account_and_region(db: Database) -> None:
    provider = LogsProvider(db)
    mine, other_region = Logs(provider, make_ctx()), Logs(provider, make_ctx(region="us-west-2"))
    other_account = Logs(provider, make_ctx(account="210987654321"))
    mine("CreateLogGroup", logGroupName="g")
    other_region("CreateLogGroup", logGroupName="g")  # same name elsewhere is fine
    assert other_account("DescribeLogGroups") == {"logGroups": []}
    assert other_account.error("DeleteLogGroup", logGroupName="g").code == "ResourceNotFoundException"
    assert [g["arn"] for g in other_region("DescribeLogGroups")["logGroups"]] == [
        "arn:aws:logs:us-west-2:123456789012:log-group:g:*"
    ]


def test_describe_log_groups_prefix_pattern_and_order(logs: Logs) -> None:
    for name in ["b/x", "a/Data", "a/data", "A/z", "a/DataLogs", "ab"]:
        logs("CreateLogGroup", logGroupName=name)
    names = [g["logGroupName"] for g in logs("DescribeLogGroups")["logGroups"]]
    assert names == ["A/z", "a/Data", "a/DataLogs", "a/data", "ab", "b/x"]  # ASCII order
    by_prefix = logs("DescribeLogGroups", logGroupNamePrefix="a/")["logGroups"]
    assert [g["logGroupName"] for g in by_prefix] == ["a/Data", "a/DataLogs", "a/data"]
    by_pattern = logs("DescribeLogGroups", logGroupNamePattern="Data")["logGroups"]
    assert [g["logGroupName"] for g in by_pattern] == ["a/Data", "a/DataLogs"]  # case-sensitive
    assert set(by_pattern[0]) == {"logGroupName", "creationTime", "arn"}
    err = logs.error("DescribeLogGroups", logGroupNamePrefix="a", logGroupNamePattern="D")
    assert err.code == "InvalidParameterException"


@pytest.mark.parametrize(("count", "limit"), [(0, 3), (1, 1), (3, 3), (7, 3), (51, None), (100, 50)])
def test_describe_log_groups_paging(logs: Logs, count: int, limit: int | None) -> None:
    names = [f"g{i:03d}" for i in range(count)]
    for name in names:
        logs("CreateLogGroup", logGroupName=name)
    params = {"limit": limit} if limit else {}
    first = logs("DescribeLogGroups", **params)
    page = limit or 50
    assert len(first["logGroups"]) == min(count, page)
    assert ("nextToken" in first) == (count > page)
    got = page_all(logs, "DescribeLogGroups", "logGroups", **params)
    assert [g["logGroupName"] for g in got] == names


def test_bad_next_token(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName="g")
    assert logs.error("DescribeLogGroups", nextToken="garbage!").code == "InvalidParameterException"
    assert (
        logs.error("DescribeLogStreams", logGroupName="g", nextToken="Zm9v").code
        == "InvalidParameterException"
    )


def test_retention_policy(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName="g")
    assert logs("PutRetentionPolicy", logGroupName="g", retentionInDays=7) == {}
    assert logs("DescribeLogGroups")["logGroups"][0]["retentionInDays"] == 7
    assert logs.error("PutRetentionPolicy", logGroupName="g", retentionInDays=2).code == (
        "InvalidParameterException"
    )
    assert logs("DeleteRetentionPolicy", logGroupName="g") == {}
    assert "retentionInDays" not in logs("DescribeLogGroups")["logGroups"][0]
    err = logs.error("PutRetentionPolicy", logGroupName="nope", retentionInDays=1)
    assert err.code == "ResourceNotFoundException"
    assert logs.error("DeleteRetentionPolicy", logGroupName="nope").code == "ResourceNotFoundException"


def test_deletion_protection(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName="keep", deletionProtectionEnabled=True)
    assert logs("DescribeLogGroups")["logGroups"][0]["deletionProtectionEnabled"] is True
    assert logs.error("DeleteLogGroup", logGroupName="keep").code == "ValidationException"


# --- streams ---------------------------------------------------------------------------------


def test_stream_lifecycle_and_errors(logs: Logs) -> None:
    err = logs.error("CreateLogStream", logGroupName="g", logStreamName="s")
    assert (err.code, err.message) == ("ResourceNotFoundException", "The specified log group does not exist.")
    logs("CreateLogGroup", logGroupName="g")
    assert logs("CreateLogStream", logGroupName="g", logStreamName="job/algo-1-1700000000") == {}
    err = logs.error("CreateLogStream", logGroupName="g", logStreamName="job/algo-1-1700000000")
    assert (err.code, err.message) == (
        "ResourceAlreadyExistsException",
        "The specified log stream already exists.",
    )
    (stream,) = logs("DescribeLogStreams", logGroupName="g")["logStreams"]
    assert stream["arn"] == (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g:log-stream:job/algo-1-1700000000")
    assert stream["storedBytes"] == 0
    assert "lastEventTimestamp" not in stream and "firstEventTimestamp" not in stream
    assert logs("DeleteLogStream", logGroupName="g", logStreamName="job/algo-1-1700000000") == {}
    err = logs.error("DeleteLogStream", logGroupName="g", logStreamName="job/algo-1-1700000000")
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    err = logs.error("DescribeLogStreams", logGroupName="missing")
    assert (err.code, err.message) == ("ResourceNotFoundException", "The specified log group does not exist.")


def test_delete_group_removes_streams_and_events(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName="g")
    logs("CreateLogStream", logGroupName="g", logStreamName="s")
    logs.put("g", "s", [(now_ms(), "hello")])
    logs("DeleteLogGroup", logGroupName="g")
    logs("CreateLogGroup", logGroupName="g")
    assert logs("DescribeLogStreams", logGroupName="g") == {"logStreams": []}
    assert logs("FilterLogEvents", logGroupName="g") == {"events": []}


def test_stream_figures_after_put(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName="g")
    logs("CreateLogStream", logGroupName="g", logStreamName="s")
    t = now_ms()
    token = logs.put("g", "s", [(t - 5, "a"), (t, "bc")])["nextSequenceToken"]
    logs.put("g", "s", [(t - 10, "def")])  # an older batch later
    (stream,) = logs("DescribeLogStreams", logGroupName="g")["logStreams"]
    assert stream["firstEventTimestamp"] == t - 10
    assert stream["lastEventTimestamp"] == t
    assert t - 1000 <= stream["lastIngestionTime"] <= now_ms()
    assert stream["uploadSequenceToken"] != token
    assert logs("DescribeLogGroups")["logGroups"][0]["storedBytes"] == 6


def test_describe_log_streams_prefix_and_sdk_call(logs: Logs) -> None:
    """The SageMaker SDK v2's call: prefix '<job>/', orderBy LogStreamName, limit instance count."""
    logs("CreateLogGroup", logGroupName="/aws/sagemaker/TrainingJobs")
    for name in ["job-a/algo-1-1", "job-ab/algo-1-1", "job-b/algo-1-1", "job-a/algo-2-1"]:
        logs("CreateLogStream", logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=name)
    out = logs(
        "DescribeLogStreams",
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamNamePrefix="job-b/",
        orderBy="LogStreamName",
        limit=1,
    )
    assert [s["logStreamName"] for s in out["logStreams"]] == ["job-b/algo-1-1"]
    assert "nextToken" not in out  # a spurious token makes the SDK loop forever
    out = logs("DescribeLogStreams", logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="job-a/")
    assert [s["logStreamName"] for s in out["logStreams"]] == ["job-a/algo-1-1", "job-a/algo-2-1"]
    out = logs("DescribeLogStreams", logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="JOB")
    assert out == {"logStreams": []}


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [1, 2, 5, 50])
def test_describe_log_streams_paging_by_name(logs: Logs, descending: bool, limit: int) -> None:
    logs("CreateLogGroup", logGroupName="g")
    names = [f"s/{i:02d}" for i in range(11)] + ["other"]
    for name in names:
        logs("CreateLogStream", logGroupName="g", logStreamName=name)
    got = page_all(
        logs, "DescribeLogStreams", "logStreams", logGroupName="g", logStreamNamePrefix="s/",
        descending=descending, limit=limit,
    )  # fmt: skip
    expected = sorted(n for n in names if n.startswith("s/"))
    assert [s["logStreamName"] for s in got] == (expected[::-1] if descending else expected)


@pytest.mark.parametrize("descending", [False, True])
def test_describe_log_streams_by_last_event_time(logs: Logs, descending: bool) -> None:
    logs("CreateLogGroup", logGroupName="g")
    t = now_ms()
    for name, offset in [("a", 30), ("b", 10), ("c", 20), ("d", 10)]:
        logs("CreateLogStream", logGroupName="g", logStreamName=name)
        logs.put("g", name, [(t - 100 + offset, f"x{name}")])
    logs("CreateLogStream", logGroupName="g", logStreamName="empty")
    got = page_all(
        logs, "DescribeLogStreams", "logStreams", logGroupName="g", orderBy="LastEventTime",
        descending=descending, limit=2,
    )  # fmt: skip
    expected = ["empty", "b", "d", "c", "a"]
    assert [s["logStreamName"] for s in got] == (expected[::-1] if descending else expected)
    err = logs.error("DescribeLogStreams", logGroupName="g", orderBy="LastEventTime", logStreamNamePrefix="a")
    assert (err.code, err.message) == (
        "InvalidParameterException",
        "Cannot order by LastEventTime with a logStreamNamePrefix.",
    )


def test_describe_log_streams_by_identifier(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName="g")
    logs("CreateLogStream", logGroupName="g", logStreamName="s")
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g"
    for ident in ["g", arn, arn + ":*"]:
        streams = logs("DescribeLogStreams", logGroupIdentifier=ident)["logStreams"]
        assert [s["logStreamName"] for s in streams] == ["s"]
    assert logs.error("DescribeLogStreams").code == "InvalidParameterException"
    err = logs.error("DescribeLogStreams", logGroupName="g", logGroupIdentifier="g")
    assert err.code == "InvalidParameterException"
    other = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g"
    assert logs.error("DescribeLogStreams", logGroupIdentifier=other).code == "ResourceNotFoundException"


def test_describe_log_streams_uses_indexes(db: Database, logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName="g")
    for i in range(5):
        logs("CreateLogStream", logGroupName="g", logStreamName=f"s{i}")
    for params in [{"logStreamNamePrefix": "s"}, {"orderBy": "LastEventTime", "descending": True}]:
        with captured_sql(db) as seen:
            logs("DescribeLogStreams", logGroupName="g", limit=2, **params)
        plans = query_plans(db, seen, "logs_streams")
        assert plans and all("USING INDEX" in p or "USING COVERING INDEX" in p for p in plans), plans
        assert not any("TEMP B-TREE" in p for p in plans), plans


# --- tags ------------------------------------------------------------------------------------


def test_tags(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName="g", tags={"team": "ml"})
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g"
    assert logs("ListTagsForResource", resourceArn=arn) == {"tags": {"team": "ml"}}
    logs("TagResource", resourceArn=arn, tags={"env": "dev", "team": "ds"})
    assert logs("ListTagsLogGroup", logGroupName="g") == {"tags": {"team": "ds", "env": "dev"}}
    logs("UntagResource", resourceArn=arn, tagKeys=["team", "absent"])
    assert logs("ListTagsForResource", resourceArn=arn) == {"tags": {"env": "dev"}}
    logs("TagLogGroup", logGroupName="g", tags={"a": "1"})
    logs("UntagLogGroup", logGroupName="g", tags=["env"])
    assert logs("ListTagsLogGroup", logGroupName="g") == {"tags": {"a": "1"}}
    err = logs.error("TagResource", resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    assert err.code == "TooManyTagsException"
    missing = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:nope"
    assert logs.error("ListTagsForResource", resourceArn=missing).code == "ResourceNotFoundException"
    assert logs.error("ListTagsLogGroup", logGroupName="nope").code == "ResourceNotFoundException"
    assert logs.error("TagResource", resourceArn="arn:aws:s3:::b", tags={"a": "b"}).code == (
        "InvalidParameterException"
    )
