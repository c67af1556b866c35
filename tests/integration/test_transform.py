"""Batch transform through the real server with boto3: the held-out bank-marketing rows scored by
a transform job equal the endpoint's scores for the same rows; splitting, batching, output
naming, failures and AWS's messages."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError, WaiterError

from tests.conftest import AwsClients
from tests.integration.bank_support import TUTORIAL
from tests.integration.hosting_support import IMAGE, csv_rows, deploy, make_role, unique, upload_model

WAIT = {"Delay": 1, "MaxAttempts": 180}


@pytest.fixture(scope="module")
def world(aws: AwsClients, bank: tuple[Path, Path]) -> dict[str, Any]:
    """A booster trained on the bank training split, its model in S3 and SageMaker, and the
    held-out rows (label dropped) uploaded as the transform input."""
    train = np.loadtxt(bank[0], delimiter=",", ndmin=2)
    test = np.loadtxt(bank[1], delimiter=",", ndmin=2)[:, 1:]
    params = {k: v for k, v in TUTORIAL.items() if k != "num_round"} | {"nthread": 1}
    booster = xgb.train(
        params, xgb.DMatrix(train[:, 1:], label=train[:, 0]), num_boost_round=TUTORIAL["num_round"]
    )
    s3, sm = aws.client("s3"), aws.client("sagemaker")
    bucket = unique("sagemaker-transform")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.server.region})
    role = make_role(aws)
    model = unique("bank-model")
    url = upload_model(s3, bucket, booster)
    sm.create_model(
        ModelName=model, ExecutionRoleArn=role, PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url}
    )
    s3.put_object(Bucket=bucket, Key="batch/input/test.csv", Body=csv_rows(test))
    return {"booster": booster, "rows": test, "bucket": bucket, "model": model, "role": role, "url": url}


def _wait(sm: Any, name: str) -> None:
    """The botocore waiter; a Failed job is reported by the caller's assertion with its reason."""
    with contextlib.suppress(WaiterError):
        sm.get_waiter("transform_job_completed_or_stopped").wait(TransformJobName=name, WaiterConfig=WAIT)


def _job(world: dict[str, Any], name: str, **over: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TransformJobName": name,
        "ModelName": world["model"],
        "BatchStrategy": "MultiRecord",
        "MaxPayloadInMB": 1,
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{world['bucket']}/batch/input"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": f"s3://{world['bucket']}/batch/{name}", "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    return request | over


def test_transform_matches_the_endpoint(aws: AwsClients, world: dict[str, Any]) -> None:
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    name = unique("bank-transform")
    arn = sm.create_transform_job(**_job(world, name))["TransformJobArn"]
    assert arn.endswith(f":transform-job/{name}")
    assert sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in (
        "InProgress",
        "Completed",
    )
    _wait(sm, name)
    desc = sm.describe_transform_job(TransformJobName=name)
    assert desc["TransformJobStatus"] == "Completed", desc.get("FailureReason")
    assert desc["ModelName"] == world["model"] and desc["TransformEndTime"] >= desc["TransformStartTime"]
    assert desc["TransformInput"]["SplitType"] == "Line"

    body = s3.get_object(Bucket=world["bucket"], Key=f"batch/{name}/test.csv.out")["Body"].read()
    batch_scores = np.array([float(x) for x in body.decode().splitlines()], dtype=np.float32)
    rows = world["rows"]
    assert batch_scores.shape == (rows.shape[0],)  # 1 MB batches: several requests, one file, in order

    endpoint = deploy(sm, world["role"], world["url"], unique("bank-ep"))
    sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig=WAIT)
    runtime = aws.client("sagemaker-runtime")
    endpoint_scores = []
    for chunk in np.array_split(rows, 4):
        out = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(chunk))
        endpoint_scores.extend(float(x) for x in out["Body"].read().decode().splitlines())
    sm.delete_endpoint(EndpointName=endpoint)
    np.testing.assert_array_equal(batch_scores, np.array(endpoint_scores, dtype=np.float32))
    np.testing.assert_allclose(batch_scores, world["booster"].predict(xgb.DMatrix(rows)), rtol=1e-6)

    logs = aws.client("logs").describe_log_streams(
        logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix=f"{name}/"
    )["logStreams"]
    assert len(logs) == 1
    listed = sm.list_transform_jobs(NameContains=name)["TransformJobSummaries"]
    assert [j["TransformJobStatus"] for j in listed] == ["Completed"]


def test_single_record_and_whole_file(aws: AwsClients, world: dict[str, Any]) -> None:
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    rows = world["rows"][:7]
    s3.put_object(Bucket=world["bucket"], Key="small/in/part.csv", Body=csv_rows(rows))
    source = {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{world['bucket']}/small/in/"}}
    expected = world["booster"].predict(xgb.DMatrix(rows))
    for strategy, split in (("SingleRecord", "Line"), ("MultiRecord", "None")):
        name = unique(f"t-{strategy.lower()}")
        request = _job(world, name, BatchStrategy=strategy)
        request["TransformInput"] |= {"DataSource": source, "SplitType": split}
        sm.create_transform_job(**request)
        _wait(sm, name)
        desc = sm.describe_transform_job(TransformJobName=name)
        assert desc["TransformJobStatus"] == "Completed", desc.get("FailureReason")
        body = s3.get_object(Bucket=world["bucket"], Key=f"batch/{name}/part.csv.out")["Body"].read()
        np.testing.assert_allclose([float(x) for x in body.split()], expected, rtol=1e-6)


def test_transform_failures_and_messages(aws: AwsClients, world: dict[str, Any]) -> None:
    sm = aws.client("sagemaker")
    account = aws.client("sts").get_caller_identity()["Account"]
    with pytest.raises(ClientError) as exc:
        sm.create_transform_job(**_job(world, unique("t-nomodel"), ModelName="no-such-model"))
    assert exc.value.response["Error"]["Message"] == (
        f'Could not find model "arn:aws:sagemaker:{aws.server.region}:{account}:model/no-such-model".'
    )
    name = unique("t-json")
    request = _job(world, name)
    request["TransformInput"]["ContentType"] = "application/json"  # the container refuses it: 415
    sm.create_transform_job(**request)
    with pytest.raises(ClientError) as exc:
        sm.create_transform_job(**request)
    assert exc.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(Exception, match="Failed"):
        sm.get_waiter("transform_job_completed_or_stopped").wait(TransformJobName=name, WaiterConfig=WAIT)
    desc = sm.describe_transform_job(TransformJobName=name)
    assert desc["TransformJobStatus"] == "Failed"
    assert desc["FailureReason"].startswith("ClientError: See job logs for more information")
    assert "415" in desc["FailureReason"]
    with pytest.raises(ClientError) as exc:
        sm.describe_transform_job(TransformJobName="no-such-job")
    assert exc.value.response["Error"]["Message"] == "Could not find requested job with name no-such-job"
    with pytest.raises(ClientError) as exc:
        sm.create_transform_job(**_job(world, unique("t-big"), MaxPayloadInMB=50, MaxConcurrentTransforms=4))
    assert "must not exceed 100 MB" in exc.value.response["Error"]["Message"]


def test_stop_transform_job(aws: AwsClients, world: dict[str, Any]) -> None:
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    body = csv_rows(world["rows"])
    for i in range(20):  # ~25,000 single-record requests: far longer than the stop takes
        s3.put_object(Bucket=world["bucket"], Key=f"many/in/part-{i:02d}.csv", Body=body)
    name = unique("t-stop")
    request = _job(world, name, BatchStrategy="SingleRecord")
    request["TransformInput"]["DataSource"] = {
        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{world['bucket']}/many/in/"}
    }
    sm.create_transform_job(**request)
    time.sleep(2)
    sm.stop_transform_job(TransformJobName=name)
    assert sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in ("Stopping", "Stopped")
    _wait(sm, name)
    desc = sm.describe_transform_job(TransformJobName=name)
    assert desc["TransformJobStatus"] == "Stopped" and "FailureReason" not in desc
    sm.stop_transform_job(TransformJobName=name)  # stopping a stopped job changes nothing
    assert sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == "Stopped"
