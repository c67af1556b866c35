"""The json codec (sagemaker, logs): botocore's serializer writes the requests, its parser reads our responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sagelocal.services.base import ServiceError
from tests.unit.codec_helpers import (
    codec,
    error_roundtrip,
    op,
    raw_request,
    request_for,
    roundtrip_request,
    roundtrip_response,
)

T = datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def _target(target: str, body: bytes) -> object:
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    return raw_request("POST", "/", body=body, headers=headers)


def test_logs_put_log_events() -> None:
    events = [{"timestamp": 1795780800123, "message": "line 1"}, {"timestamp": 1795780800124, "message": "é"}]
    params = {
        "logGroupName": "/aws/sagemaker/TrainingJobs",
        "logStreamName": "job/algo-1",
        "logEvents": events,
    }
    assert roundtrip_request("logs", "PutLogEvents", params) == params
    result = {"nextSequenceToken": "49", "rejectedLogEventsInfo": {"tooOldLogEventEndIndex": 1}}
    assert roundtrip_response("logs", "PutLogEvents", result) == result


def test_logs_get_log_events() -> None:
    params = {"logGroupName": "g", "logStreamName": "s", "startTime": 1, "limit": 10, "startFromHead": True}
    assert roundtrip_request("logs", "GetLogEvents", params) == params
    result = {
        "events": [{"timestamp": 5, "message": "m", "ingestionTime": 6}],
        "nextForwardToken": "f/1",
        "nextBackwardToken": "b/1",
    }
    assert roundtrip_response("logs", "GetLogEvents", result) == result


def test_logs_describe_log_groups() -> None:
    params = {"logGroupNamePrefix": "/aws/sagemaker", "limit": 50, "nextToken": "t"}
    assert roundtrip_request("logs", "DescribeLogGroups", params) == params
    group = {
        "logGroupName": "/aws/x",
        "creationTime": 1795780800123,
        "storedBytes": 0,
        "arn": "arn:aws:logs:*",
    }
    assert roundtrip_response("logs", "DescribeLogGroups", {"logGroups": [group]}) == {"logGroups": [group]}


def test_sagemaker_create_notebook_instance() -> None:
    params = {
        "NotebookInstanceName": "nb-1",
        "InstanceType": "ml.t3.medium",
        "RoleArn": ROLE,
        "VolumeSizeInGB": 5,
        "DirectInternetAccess": "Enabled",
        "SecurityGroupIds": [],
        "Tags": [{"Key": "project", "Value": "demo"}],
        "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"},
    }
    assert roundtrip_request("sagemaker", "CreateNotebookInstance", params) == params
    arn = {"NotebookInstanceArn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/nb-1"}
    assert roundtrip_response("sagemaker", "CreateNotebookInstance", arn) == arn


def test_sagemaker_describe_training_job_nested_output() -> None:
    result = {
        "TrainingJobName": "job",
        "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/job",
        "ModelArtifacts": {"S3ModelArtifacts": "s3://b/job/output/model.tar.gz"},
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "HyperParameters": {"num_round": "10", "objective": "binary:logistic"},
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/train"}},
            }
        ],
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "CreationTime": T,
        "TrainingStartTime": T,
        "SecondaryStatusTransitions": [{"Status": "Starting", "StartTime": T, "StatusMessage": "Launching"}],
        "FinalMetricDataList": [{"MetricName": "validation:auc", "Value": 0.875, "Timestamp": T}],
        "EnableManagedSpotTraining": False,
        "BillableTimeInSeconds": 60,
    }
    assert roundtrip_response("sagemaker", "DescribeTrainingJob", result) == result
    body = json.loads(codec("sagemaker").serialize(op("sagemaker", "DescribeTrainingJob"), result, "r").body)
    assert body["CreationTime"] == 1795780800.123
    assert "FailureReason" not in body
    assert roundtrip_request("sagemaker", "DescribeTrainingJob", {"TrainingJobName": "job"}) == {
        "TrainingJobName": "job"
    }


def test_timestamps_and_blobs_in_requests() -> None:
    params = {"CreationTimeAfter": T, "MaxResults": 10, "SortOrder": "Ascending"}
    parsed = roundtrip_request("sagemaker", "ListTrainingJobs", params)
    assert parsed["CreationTimeAfter"] == T.replace(microsecond=0)  # botocore sends whole seconds
    assert parsed["CreationTimeAfter"].tzinfo is UTC
    blob = {"KeyId": "k", "Plaintext": b"\x00\xffsecret"}
    assert roundtrip_request("kms", "Encrypt", blob) == blob
    result = {"CiphertextBlob": b"\x01\x02", "KeyId": "k"}
    assert roundtrip_response("kms", "Encrypt", result) == result


def test_extra_result_keys_and_none_are_dropped() -> None:
    result = {"NotebookInstanceArn": "arn", "FailureReason": None, "_internal": 1}
    body = codec("sagemaker").serialize(op("sagemaker", "CreateNotebookInstance"), result, "r")
    assert json.loads(body.body) == {"NotebookInstanceArn": "arn"}
    assert body.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert body.headers["x-amzn-RequestId"] == "r"


def test_find_operation_and_unknown_target() -> None:
    c = codec("logs")
    request = request_for("logs", "CreateLogGroup", {"logGroupName": "g"})
    assert c.find_operation(request)[0].name == "CreateLogGroup"
    for target in ("Logs_20140328.NoSuchThing", "SageMaker.CreateLogGroup", ""):
        with pytest.raises(ServiceError) as err:
            c.find_operation(_target(target, b"{}"))  # type: ignore[arg-type]
        assert (err.value.code, err.value.status) == ("UnknownOperationException", 400)


def test_malformed_and_empty_body() -> None:
    c = codec("logs")
    operation = op("logs", "CreateLogGroup")
    with pytest.raises(ServiceError) as err:
        c.parse(operation, _target("Logs_20140328.CreateLogGroup", b'{"logGroupName": "half'), {})  # type: ignore[arg-type]
    assert (err.value.code, err.value.status) == ("SerializationException", 400)
    assert c.parse(operation, _target("Logs_20140328.CreateLogGroup", b""), {}) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"limit": "10"}', "class java.lang.String can not be converted to an Integer"),
        (b'{"logGroupNamePrefix": 5}', "can not be converted to an String"),
        (b'{"logGroupNamePrefix": {}}', "Start of structure or map found where not expected."),
        (b'{"includeLinkedAccounts": "yes"}', "'yes' can not be converted to an Boolean"),
        (b'{"accountIdentifiers": "x"}', "Expected list or null"),
        (b"[1]", "Start of list found where not expected"),
    ],
)
def test_type_mismatches_are_serialization_exceptions(body: bytes, message: str) -> None:
    c = codec("logs")
    with pytest.raises(ServiceError) as err:
        c.parse(op("logs", "DescribeLogGroups"), _target("Logs_20140328.DescribeLogGroups", body), {})  # type: ignore[arg-type]
    assert err.value.code == "SerializationException"
    assert message in err.value.message


def test_errors_read_by_botocore() -> None:
    error = ServiceError("ValidationException", "Requested resource not found.", 400)
    status, parsed, raw = error_roundtrip("sagemaker", "DescribeTrainingJob", error)
    assert status == 400
    assert parsed["Error"]["Code"] == "ValidationException"
    assert parsed["Error"]["Message"] == "Requested resource not found."
    assert parsed["ResponseMetadata"]["RequestId"] == "req-err"
    assert raw.headers["x-amzn-ErrorType"] == "ValidationException"
    assert json.loads(raw.body) == {
        "__type": "ValidationException",
        "message": "Requested resource not found.",
    }


def test_modeled_error_uses_the_shape_message_key() -> None:
    error = ServiceError("ResourceNotFound", "gone", 400)
    _, parsed, raw = error_roundtrip("sagemaker", "DescribeTrainingJob", error)
    assert json.loads(raw.body) == {"__type": "ResourceNotFound", "Message": "gone"}
    assert parsed["Error"]["Code"] == "ResourceNotFound"
    assert parsed["Message"] == "gone"  # botocore's modeled-error parse


def test_error_without_message_and_extra_headers() -> None:
    error = ServiceError("UnknownOperationException", "", 400, headers={"x-extra": "1"})
    status, parsed, raw = error_roundtrip("logs", "CreateLogGroup", error)
    assert (status, parsed["Error"]["Code"], parsed["Error"]["Message"]) == (
        400,
        "UnknownOperationException",
        "",
    )
    assert json.loads(raw.body) == {"__type": "UnknownOperationException"}
    assert raw.headers["x-extra"] == "1"
