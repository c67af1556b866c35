"""CloudWatch Logs through the real server with real boto3, the AWS CLI and the SageMaker SDK reader."""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import AwsClients


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@pytest.fixture
def logs(aws: AwsClients) -> Any:
    return aws.client("logs")


@pytest.fixture
def group(logs: Any) -> str:
    name = f"/sagelocal/test/{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=name)
    return name


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return {**err.value.response["Error"], "status": err.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def test_group_and_stream_lifecycle(logs: Any, group: str) -> None:
    err = _error(logs.create_log_group, logGroupName=group)
    assert (err["Code"], err["Message"], err["status"]) == (
        "ResourceAlreadyExistsException",
        "The specified log group already exists.",
        400,
    )
    (described,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert described["arn"].endswith(f":log-group:{group}:*") and described["storedBytes"] == 0
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    err = _error(logs.create_log_stream, logGroupName=group, logStreamName="s")
    assert err["Code"] == "ResourceAlreadyExistsException"
    logs.delete_log_stream(logGroupName=group, logStreamName="s")
    logs.delete_log_group(logGroupName=group)
    err = _error(logs.describe_log_streams, logGroupName=group)
    assert (err["Code"], err["Message"]) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_group(logGroupName=group)


def test_put_get_and_tokens(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t0 = now_ms() - 60_000
    put = logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": t0 + i, "message": f"line {i}"} for i in range(12)],
    )
    assert put["nextSequenceToken"] and "rejectedLogEventsInfo" not in put
    head = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True, limit=5)
    assert [e["message"] for e in head["events"]] == [f"line {i}" for i in range(5)]
    seen = [e["message"] for e in head["events"]]
    token = head["nextForwardToken"]
    while True:
        page = logs.get_log_events(
            logGroupName=group, logStreamName="s", startFromHead=True, limit=5, nextToken=token
        )
        if not page["events"]:
            assert page["nextForwardToken"] == token
            break
        seen += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
    assert seen == [f"line {i}" for i in range(12)]
    tail = logs.get_log_events(logGroupName=group, logStreamName="s", limit=2)
    assert [e["message"] for e in tail["events"]] == ["line 10", "line 11"]
    back = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == [f"line {i}" for i in range(10)]


def test_put_errors_and_rejections(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms()
    err = _error(
        logs.put_log_events,
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}],
    )
    assert (err["Code"], err["Message"]) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    )
    err = _error(
        logs.put_log_events,
        logGroupName=group,
        logStreamName="missing",
        logEvents=[{"timestamp": t, "message": "a"}],
    )
    assert (err["Code"], err["Message"]) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    out = logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": t - 20 * 86_400_000, "message": "old"}, {"timestamp": t, "message": "ok"}],
    )
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}


def test_sagemaker_sdk_calls(aws: AwsClients, logs: Any) -> None:
    """DescribeLogStreams as the SDK v2 calls it (no spurious nextToken) and its log_stream reader."""
    from sagemaker.logs import log_stream

    job = f"job-{uuid.uuid4().hex[:8]}"
    group = "/aws/sagemaker/TrainingJobs"
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    stream = f"{job}/algo-1-1700000000"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    out = logs.describe_log_streams(
        logGroupName=group, logStreamNamePrefix=f"{job}/", orderBy="LogStreamName", limit=1
    )
    assert [s["logStreamName"] for s in out["logStreams"]] == [stream]
    assert "nextToken" not in out
    t0 = now_ms() - 1000
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t0 + i, "message": f"[{i}]\ttrain-rmse:0.{i}"} for i in range(30)],
    )
    got = list(log_stream(logs, group, stream, start_time=t0))
    assert [e["message"] for e in got] == [f"[{i}]\ttrain-rmse:0.{i}" for i in range(30)]


def test_filter_log_events(logs: Any, group: str) -> None:
    t0 = now_ms() - 10_000
    for name in ["AllTraffic/i-1", "AllTraffic/i-2", "Other/i-1"]:
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="AllTraffic/i-1",
        logEvents=[{"timestamp": t0, "message": "ERROR boom"}, {"timestamp": t0 + 2, "message": "INFO ok"}],
    )
    logs.put_log_events(
        logGroupName=group,
        logStreamName="AllTraffic/i-2",
        logEvents=[{"timestamp": t0 + 1, "message": "WARN hmm"}],
    )
    logs.put_log_events(
        logGroupName=group, logStreamName="Other/i-1", logEvents=[{"timestamp": t0, "message": "ERROR other"}]
    )
    out = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="AllTraffic/", limit=10)
    assert [(e["logStreamName"], e["message"]) for e in out["events"]] == [
        ("AllTraffic/i-1", "ERROR boom"),
        ("AllTraffic/i-2", "WARN hmm"),
        ("AllTraffic/i-1", "INFO ok"),
    ]
    assert "nextToken" not in out
    out = logs.filter_log_events(logGroupName=group, filterPattern="?ERROR ?WARN")
    assert sorted(e["message"] for e in out["events"]) == ["ERROR boom", "ERROR other", "WARN hmm"]
    pages = list(
        logs.get_paginator("filter_log_events").paginate(logGroupName=group, PaginationConfig={"PageSize": 1})
    )
    assert sum(len(p["events"]) for p in pages) == 4


def test_tags(logs: Any, group: str) -> None:
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"team": "ml"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "ml"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_aws_cli_create_and_describe(aws: AwsClients) -> None:
    prefix = f"/sagelocal/cli/{uuid.uuid4().hex[:8]}"
    for i in range(3):
        aws.cli("logs", "create-log-group", "--log-group-name", f"{prefix}/g{i}")
    out = aws.cli_json("logs", "describe-log-groups", "--log-group-name-prefix", prefix)
    assert [g["logGroupName"] for g in out["logGroups"]] == [f"{prefix}/g{i}" for i in range(3)]
    # The CLI follows nextToken itself: with a page size of 1 it must still end, with every group once.
    out = aws.cli_json("logs", "describe-log-groups", "--log-group-name-prefix", prefix, "--page-size", "1")
    assert [g["logGroupName"] for g in out["logGroups"]] == [f"{prefix}/g{i}" for i in range(3)]
    failed = aws.cli("logs", "create-log-group", "--log-group-name", f"{prefix}/g0", check=False)
    assert failed.returncode != 0 and "ResourceAlreadyExistsException" in failed.stderr
