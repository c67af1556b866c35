"""Real-time endpoints through the real server with boto3: deploy a real XGBoost model, wait with
botocore's waiters, invoke through sagemaker-runtime, and the failures and messages AWS gives."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.conftest import AwsClients
from tests.integration.hosting_support import (
    IMAGE,
    LEGACY_IMAGE,
    csv_rows,
    deploy,
    make_role,
    train_booster,
    unique,
    upload_model,
    wait_status,
)

BUCKET_PREFIX = "sagemaker-ep"
FAST = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture(scope="module")
def sm(aws: AwsClients) -> Any:
    return aws.client("sagemaker")


@pytest.fixture(scope="module")
def runtime(aws: AwsClients) -> Any:
    return aws.client("sagemaker-runtime")


@pytest.fixture(scope="module")
def role(aws: AwsClients) -> str:
    return make_role(aws)


@pytest.fixture(scope="module")
def trained() -> tuple[Any, np.ndarray]:
    return train_booster()


@pytest.fixture(scope="module")
def model_bucket(aws: AwsClients) -> str:
    name = unique("sagemaker-endpoints")
    aws.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": aws.session.region_name}
    )
    return name


@pytest.fixture(scope="module")
def model_url(aws: AwsClients, model_bucket: str, trained: tuple[Any, np.ndarray]) -> str:
    return upload_model(aws.client("s3"), model_bucket, trained[0])


@pytest.fixture(scope="module")
def endpoint(sm: Any, role: str, model_url: str) -> str:
    name = deploy(sm, role, model_url, unique("Ep-Main"))
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    return name


def _error(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return dict(exc.value.response["Error"]) | {
        "_status": exc.value.response["ResponseMetadata"]["HTTPStatusCode"]
    }


def test_deployed_endpoint_predicts_like_the_booster(
    sm: Any, runtime: Any, endpoint: str, trained: tuple[Any, np.ndarray]
) -> None:
    import xgboost as xgb

    booster, rows = trained
    desc = sm.describe_endpoint(EndpointName=endpoint)
    assert desc["EndpointStatus"] == "InService" and desc["EndpointConfigName"] == endpoint
    (variant,) = desc["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["CurrentInstanceCount"] == variant["DesiredInstanceCount"] == 1
    assert variant["CurrentWeight"] == 1.0 and variant["DeployedImages"][0]["SpecifiedImage"] == IMAGE
    assert desc["EndpointArn"].endswith(f":endpoint/{endpoint.lower()}")

    response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(rows))
    assert response["ContentType"].startswith("text/csv")
    assert response["InvokedProductionVariant"] == "AllTraffic"
    scores = np.array([float(line) for line in response["Body"].read().decode().splitlines()])
    expected = booster.predict(xgb.DMatrix(rows))
    assert scores.shape == expected.shape
    np.testing.assert_allclose(scores, expected, rtol=1e-6)

    as_json = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Accept="application/json", Body=csv_rows(rows[:2])
    )
    preds = json.loads(as_json["Body"].read())["predictions"]
    np.testing.assert_allclose([p["score"] for p in preds], expected[:2], rtol=1e-6)


def test_invocation_errors(runtime: Any, endpoint: str, aws: AwsClients) -> None:
    account = aws.client("sts").get_caller_identity()["Account"]
    with pytest.raises(ClientError) as exc:
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="text/csv", Body=b"1,2")
    err = _error(exc)
    assert err["Code"] == "ValidationError" and err["_status"] == 400
    assert err["Message"] == f"Endpoint no-such-endpoint of account {account} not found."

    with pytest.raises(ClientError) as exc:  # the container refuses JSON: ModelError wraps its 415
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json", Body=b"[1, 2]")
    err = _error(exc)
    assert err["Code"] == "ModelError" and err["_status"] == 424
    assert exc.value.response["OriginalStatusCode"] == 415
    assert err["Message"].startswith(
        'Received client error (415) from primary with message "application/json is not'
    )
    assert f"#logEventViewer:group=/aws/sagemaker/Endpoints/{endpoint} in account {account}" in err["Message"]

    with pytest.raises(ClientError) as exc:
        runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Body=b"1," * (3 * 1024 * 1024 + 1) + b"1"
        )
    err = _error(exc)  # the runtime model's own limit on Body, in AWS's validation wording
    assert err["Code"] == "ValidationError" and err["_status"] == 400
    assert err["Message"].endswith("Member must have length less than or equal to 6291456")


def _events(logs: Any, group: str) -> list[dict[str, Any]]:
    """Every event of the group's streams; none while the group does not exist yet."""
    if not any(
        g["logGroupName"] == group for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    ):
        return []
    return list(logs.filter_log_events(logGroupName=group)["events"])


def test_endpoint_logs_and_metrics(aws: AwsClients, runtime: Any, endpoint: str, trained: Any) -> None:
    runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(trained[1][:1]))
    logs = aws.client("logs")
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    deadline = time.monotonic() + 15  # replica output is shipped in batches, as CloudWatch Logs delivers it
    while not any("Listening at" in e["message"] for e in _events(logs, group)):
        assert time.monotonic() < deadline, "the replica's start-up lines never reached its log stream"
        time.sleep(0.2)
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1 and streams[0]["logStreamName"].startswith("AllTraffic/i-0")
    with urllib.request.urlopen(aws.server.endpoint_url + "/_sagelocal/endpoints") as response:
        live = json.loads(response.read())["Endpoints"]
    (mine,) = [e for e in live if e["EndpointName"] == endpoint]
    (variant,) = mine["Variants"]
    assert variant["Replicas"][0]["Healthy"] is True
    assert sum(p["Invocations"] for p in variant["Metrics"]) >= 1
    assert variant["Metrics"][-1]["ModelLatency"]["SampleCount"] >= 1


def test_busy_and_duplicate_endpoint_messages(sm: Any, role: str, model_url: str, endpoint: str) -> None:
    arn = sm.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    with pytest.raises(ClientError) as exc:
        sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
    assert _error(exc)["Message"] == f'Cannot create already existing endpoint "{arn}".'
    name = deploy(sm, role, model_url, unique("ep-busy"))
    with pytest.raises(ClientError) as exc:  # still Creating
        sm.delete_endpoint(EndpointName=name)
    busy_arn = sm.describe_endpoint(EndpointName=name)["EndpointArn"]
    assert _error(exc)["Message"] == f'Cannot update in-progress endpoint "{busy_arn}".'
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    sm.delete_endpoint(EndpointName=name)
    sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig=FAST)


def test_model_that_cannot_load_fails_the_endpoint(
    sm: Any, aws: AwsClients, role: str, model_bucket: str
) -> None:
    key = f"{unique('broken')}/model.tar.gz"
    import io
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        data = b"this is not a model"
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    aws.client("s3").put_object(Bucket=model_bucket, Key=key, Body=raw.getvalue())
    name = deploy(sm, role, f"s3://{model_bucket}/{key}", unique("ep-broken"))
    with pytest.raises(Exception, match="Failed"):
        sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    desc = sm.describe_endpoint(EndpointName=name)
    assert desc["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in desc["FailureReason"]
    assert "Unable to load model" in desc["FailureReason"]
    with pytest.raises(ClientError) as exc:
        aws.client("sagemaker-runtime").invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=b"1")
    assert _error(exc)["Code"] == "ValidationError"
    sm.delete_endpoint(EndpointName=name)  # the only thing one can do with a failed endpoint
    sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig=FAST)


def test_missing_model_data_fails_the_endpoint(sm: Any, role: str, model_bucket: str) -> None:
    url = f"s3://{model_bucket}/nothing/here/model.tar.gz"
    name = deploy(sm, role, url, unique("ep-nodata"))
    desc = wait_status(sm, name, ("Failed", "InService"))
    assert desc["EndpointStatus"] == "Failed"
    assert desc["FailureReason"].startswith(f"Could not find model data at {url}.")
    sm.delete_endpoint(EndpointName=name)


def test_legacy_image_answers_one_line(
    sm: Any, runtime: Any, role: str, model_url: str, trained: tuple[Any, np.ndarray]
) -> None:
    import xgboost as xgb

    booster, rows = trained
    name = deploy(sm, role, model_url, unique("ep-legacy"), image=LEGACY_IMAGE)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    body = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=csv_rows(rows[:5]))[
        "Body"
    ].read()
    assert b"\n" not in body.strip()
    scores = np.fromstring(body.decode(), sep=",")  # the original tutorial's parsing
    np.testing.assert_allclose(scores, booster.predict(xgb.DMatrix(rows[:5])), rtol=1e-6)
    sm.delete_endpoint(EndpointName=name)
    sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig=FAST)
