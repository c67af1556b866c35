"""Training jobs through the real server: boto3 create → waiter → Describe, artifacts, logs, failures.

The happy path runs the real built-in XGBoost algorithm on the shared server. Failure, stop and
max-runtime paths run a stand-in algorithm (a real subprocess whose behaviour the `mode`
hyperparameter picks) on a dedicated server started with `SAGELOCAL_ALGORITHM_OVERRIDE`.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from sagelocal.launcher import ServerProcess
from tests.conftest import AwsClients
from tests.integration.role_support import sagemaker_role

IMAGE = "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-xgboost:1.7-1"
LEGACY_IMAGE = "501404015308.dkr.ecr.ap-northeast-1.amazonaws.com/xgboost:latest"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
STANDIN = """
import json, os, sys, time, pathlib
ws = pathlib.Path(sys.argv[sys.argv.index("--workspace") + 1])
hp = json.loads((ws / "input/config/hyperparameters.json").read_text())
mode = hp.get("mode", "ok")
rows = sum(len(p.read_text().splitlines()) for p in (ws / "input/data/train").rglob("*") if p.is_file())
print(f"stand-in version={os.environ.get('SAGELOCAL_XGBOOST_VERSION')} rows={rows}", flush=True)
if mode == "fail":
    (ws / "output/failure").write_text("ValueError: the stand-in was told to fail")
    print("failing", flush=True)
    sys.exit(1)
(ws / "model/xgboost-model").write_text("stand-in model")
if mode == "sleep":
    print("sleeping", flush=True)
    time.sleep(120)
for i in range(3):
    print(f"[{i}]#011train-rmse:{0.5 - i / 10:.2f}", flush=True)
(ws / "output/metrics.json").write_text(json.dumps({"train:rmse": 0.3}))
"""
CSV = "".join(f"{i % 2},{i * 0.1:.1f},{(i * 7) % 5}.0\n" for i in range(60))


def _setup(aws: AwsClients, tag: str) -> tuple[str, str]:
    iam, s3 = aws.client("iam"), aws.client("s3")
    account = aws.client("sts").get_caller_identity()["Account"]
    role = sagemaker_role(iam, account, f"TrainRole-{tag}")
    bucket = f"training-{tag}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.server.region})
    s3.put_object(Bucket=bucket, Key="data/train/train.csv", Body=CSV.encode())
    return role, bucket


def _request(name: str, role: str, bucket: str, **over: Any) -> dict[str, Any]:
    req: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": role,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{bucket}/data/train",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "text/csv",
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m4.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "HyperParameters": {"objective": "binary:logistic", "num_round": "5", "max_depth": "3"},
    }
    return req | over


def _wait(sm: Any, name: str) -> dict[str, Any]:
    try:
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    except WaiterError as err:  # Failed ends the waiter with an error; a timeout must not
        assert err.last_response.get("TrainingJobStatus") == "Failed", err
    return sm.describe_training_job(TrainingJobName=name)


def _log_text(aws: AwsClients, name: str) -> str:
    logs = aws.client("logs")
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/"
    )
    assert [s["logStreamName"].rsplit("-", 1)[0] for s in streams["logStreams"]] == [f"{name}/algo-1"]
    stream = streams["logStreams"][0]["logStreamName"]
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream, startFromHead=True
    )["events"]
    return "\n".join(e["message"] for e in events)


# --- the real algorithm on the shared server ---------------------------------------------------


@pytest.fixture(scope="module")
def setup(aws: AwsClients) -> tuple[str, str]:
    return _setup(aws, "real")


@pytest.mark.parametrize("image", [IMAGE, LEGACY_IMAGE])
def test_xgboost_job_completes_with_artifact_and_logs(
    aws: AwsClients, setup: tuple[str, str], image: str
) -> None:
    role, bucket = setup
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    name = "xgb-" + image.rsplit(":", 1)[1].replace(".", "-")
    spec = {"TrainingImage": image, "TrainingInputMode": "File"}
    arn = sm.create_training_job(**_request(name, role, bucket, AlgorithmSpecification=spec))[
        "TrainingJobArn"
    ]
    assert (
        arn
        == f"arn:aws:sagemaker:{aws.server.region}:{aws.server.health()['account_id']}:training-job/{name}"
    )
    desc = _wait(sm, name)
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    assert desc["SecondaryStatus"] == "Completed"
    steps = [t["Status"] for t in desc["SecondaryStatusTransitions"]]
    assert steps == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all(t["StatusMessage"] for t in desc["SecondaryStatusTransitions"])
    assert desc["TrainingStartTime"] <= desc["TrainingEndTime"]
    assert desc["BillableTimeInSeconds"] == desc["TrainingTimeInSeconds"] >= 1
    uri = desc["ModelArtifacts"]["S3ModelArtifacts"]
    assert uri == f"s3://{bucket}/output/{name}/output/model.tar.gz"
    body = s3.get_object(Bucket=bucket, Key=f"output/{name}/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert "xgboost-model" in tar.getnames()
    assert desc["HyperParameters"]["num_round"] == "5"
    assert desc["FinalMetricDataList"], "metrics.json read into FinalMetricDataList"
    if image != LEGACY_IMAGE:
        # round lines as SageMaker ships them (tab as #011), which the SDK's metric regexes match
        assert re.search(r"\[4\]#011train-logloss:[0-9.]+", _log_text(aws, name))


SDK_FIT = """
import sys
import sagelocal.compat.sagemaker_sdk  # noqa: F401
import sagemaker
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput

role, bucket, region = sys.argv[1:4]
image = image_uris.retrieve("xgboost", region, "1.7-1")
est = Estimator(image, role, instance_count=1, instance_type="ml.m4.xlarge", output_path=f"s3://{bucket}/sdk")
est.set_hyperparameters(max_depth=5, eta=0.2, objective="binary:logistic", num_round=10)
est.fit({"train": TrainingInput(f"s3://{bucket}/data/train", content_type="csv")}, logs=True)
print("MODEL", est.model_data)
"""


def test_sagemaker_sdk_v2_fit_streams_logs(aws: AwsClients, setup: tuple[str, str]) -> None:
    role, bucket = setup
    env = aws.env | {"SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    args = [sys.executable, "-c", SDK_FIT, role, bucket, aws.server.region]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "Completed - Training job completed" in out and "train-logloss" in out
    assert "Billable seconds:" in out
    model = out.split("MODEL ", 1)[1].split()[0]
    assert model.startswith(f"s3://{bucket}/sdk/sagemaker-xgboost-") and model.endswith(
        "/output/model.tar.gz"
    )
    aws.client("s3").head_object(Bucket=bucket, Key=model.split(f"s3://{bucket}/", 1)[1])


def test_missing_s3_data_fails_with_client_error(aws: AwsClients, setup: tuple[str, str]) -> None:
    role, bucket = setup
    sm = aws.client("sagemaker")
    req = _request("missing-data", role, bucket)
    req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{bucket}/nothing-here/"
    sm.create_training_job(**req)
    desc = _wait(sm, "missing-data")
    assert desc["TrainingJobStatus"] == "Failed" and desc["SecondaryStatus"] == "Failed"
    assert desc["FailureReason"].startswith(
        f'ClientError: No S3 objects found under S3 URL "s3://{bucket}/nothing-here/"'
    )
    assert [t["Status"] for t in desc["SecondaryStatusTransitions"]] == ["Starting", "Downloading", "Failed"]


def test_unknown_image_fails_naming_it(aws: AwsClients, setup: tuple[str, str]) -> None:
    role, bucket = setup
    sm = aws.client("sagemaker")
    image = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/my-own:1"
    spec = {"TrainingImage": image, "TrainingInputMode": "File"}
    sm.create_training_job(**_request("bad-image", role, bucket, AlgorithmSpecification=spec))
    desc = _wait(sm, "bad-image")
    assert desc["TrainingJobStatus"] == "Failed"
    assert desc["FailureReason"].startswith("ClientError: ") and image in desc["FailureReason"]


def test_duplicate_name_and_unknown_job(aws: AwsClients, setup: tuple[str, str]) -> None:
    role, bucket = setup
    sm = aws.client("sagemaker")
    spec = {
        "TrainingImage": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/x:1",
        "TrainingInputMode": "File",
    }
    arn = sm.create_training_job(**_request("Dup-Job", role, bucket, AlgorithmSpecification=spec))[
        "TrainingJobArn"
    ]
    assert arn.endswith(":training-job/dup-job")
    with pytest.raises(ClientError) as err:
        sm.create_training_job(**_request("dup-job", role, bucket))
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    assert err.value.response["Error"]["Message"] == (
        "Training job names must be unique within an AWS account and region, and a training job "
        f"with this name already exists ({arn})"
    )
    for call in (sm.describe_training_job, sm.stop_training_job):
        with pytest.raises(ClientError) as err:
            call(TrainingJobName="no-such-job")
        assert err.value.response["Error"] == {
            "Code": "ValidationException",
            "Message": "Requested resource not found.",
        }


def test_role_must_exist_and_trust_sagemaker(aws: AwsClients, setup: tuple[str, str]) -> None:
    _, bucket = setup
    sm = aws.client("sagemaker")
    bogus = f"arn:aws:iam::{aws.server.health()['account_id']}:role/NoSuchRole"
    with pytest.raises(ClientError) as err:
        sm.create_training_job(**_request("no-role", bogus, bucket))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not assume role" in err.value.response["Error"]["Message"]


def test_list_and_tags(aws: AwsClients, setup: tuple[str, str]) -> None:
    sm = aws.client("sagemaker")
    names = [
        s["TrainingJobName"]
        for s in sm.list_training_jobs(SortBy="Name", MaxResults=100)["TrainingJobSummaries"]
    ]
    assert names == sorted(names) and "missing-data" in names
    failed = sm.list_training_jobs(StatusEquals="Failed", NameContains="missing")["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in failed] == ["missing-data"]
    arn = sm.describe_training_job(TrainingJobName="missing-data")["TrainingJobArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ml"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []
    sm.delete_training_job(TrainingJobName="missing-data")
    with pytest.raises(ClientError):
        sm.describe_training_job(TrainingJobName="missing-data")


# --- the stand-in algorithm on a dedicated server ----------------------------------------------


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsClients]:
    root = tmp_path_factory.mktemp("standin")
    script = root / "standin.py"
    script.write_text(STANDIN)
    env = dict(os.environ) | {
        "SAGELOCAL_ALGORITHM_OVERRIDE": f"{sys.executable} {script}",
        "SAGELOCAL_STOP_GRACE_SECONDS": "5",
    }
    with (root / "server.log").open("w") as log, ServerProcess(root / "home", env=env, log=log) as srv:
        yield AwsClients(srv)


@pytest.fixture(scope="module")
def standin_setup(standin: AwsClients) -> tuple[str, str]:
    return _setup(standin, "standin")


def test_standin_completes(standin: AwsClients, standin_setup: tuple[str, str]) -> None:
    role, bucket = standin_setup
    sm = standin.client("sagemaker")
    sm.create_training_job(**_request("ok-job", role, bucket, HyperParameters={"mode": "ok"}))
    desc = _wait(sm, "ok-job")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    assert [m["MetricName"] for m in desc["FinalMetricDataList"]] == ["train:rmse"]
    assert desc["FinalMetricDataList"][0]["Value"] == pytest.approx(0.3)
    text = _log_text(standin, "ok-job")
    assert "stand-in version=1.7-1 rows=60" in text and "[2]#011train-rmse:0.30" in text


def test_algorithm_error_carries_failure_text(standin: AwsClients, standin_setup: tuple[str, str]) -> None:
    role, bucket = standin_setup
    sm = standin.client("sagemaker")
    sm.create_training_job(**_request("fail-job", role, bucket, HyperParameters={"mode": "fail"}))
    desc = _wait(sm, "fail-job")
    assert desc["TrainingJobStatus"] == "Failed"
    assert desc["FailureReason"] == "AlgorithmError: ValueError: the stand-in was told to fail"
    assert [t["Status"] for t in desc["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Failed",
    ]


def _wait_for_secondary(sm: Any, name: str, status: str) -> None:
    for _ in range(200):
        if sm.describe_training_job(TrainingJobName=name)["SecondaryStatus"] == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} never reached {status}")


def test_stop_mid_run(standin: AwsClients, standin_setup: tuple[str, str]) -> None:
    role, bucket = standin_setup
    sm = standin.client("sagemaker")
    sm.create_training_job(**_request("stop-job", role, bucket, HyperParameters={"mode": "sleep"}))
    _wait_for_secondary(sm, "stop-job", "Training")
    sm.stop_training_job(TrainingJobName="stop-job")
    assert sm.describe_training_job(TrainingJobName="stop-job")["TrainingJobStatus"] in (
        "Stopping",
        "Stopped",
    )
    desc = _wait(sm, "stop-job")
    assert desc["TrainingJobStatus"] == "Stopped" and desc["SecondaryStatus"] == "Stopped"
    steps = [t["Status"] for t in desc["SecondaryStatusTransitions"]]
    assert steps[:3] == ["Starting", "Downloading", "Training"] and steps[-2:] == ["Stopping", "Stopped"]
    with pytest.raises(ClientError) as err:
        sm.stop_training_job(TrainingJobName="stop-job")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_max_runtime_exceeded(standin: AwsClients, standin_setup: tuple[str, str]) -> None:
    role, bucket = standin_setup
    sm = standin.client("sagemaker")
    req = _request("slow-job", role, bucket, HyperParameters={"mode": "sleep"})
    req["StoppingCondition"] = {"MaxRuntimeInSeconds": 2}
    sm.create_training_job(**req)
    desc = _wait(sm, "slow-job")
    assert desc["TrainingJobStatus"] == "Stopped" and desc["SecondaryStatus"] == "MaxRuntimeExceeded"
    key = desc["ModelArtifacts"]["S3ModelArtifacts"].split(f"s3://{bucket}/", 1)[1]
    standin.client("s3").head_object(Bucket=bucket, Key=key)  # the model written before the stop is kept


def test_server_restart_fails_running_jobs(tmp_path: Path, standin: AwsClients) -> None:
    env = dict(standin.server.env or {})
    with ServerProcess(tmp_path / "home", env=env, log=(tmp_path / "s.log").open("w")) as srv:
        aws = AwsClients(srv)
        role, bucket = _setup(aws, "restart")
        sm = aws.client("sagemaker")
        sm.create_training_job(**_request("crash-job", role, bucket, HyperParameters={"mode": "sleep"}))
        _wait_for_secondary(sm, "crash-job", "Training")
        srv.kill()
        srv.start()
        desc = aws.client("sagemaker").describe_training_job(TrainingJobName="crash-job")
    assert desc["TrainingJobStatus"] == "Failed"
    assert desc["FailureReason"].startswith("InternalServerError: The sagelocal server stopped")


def _channel(bucket: str, name: str, prefix: str) -> dict[str, Any]:
    source = {
        "S3DataType": "S3Prefix",
        "S3Uri": f"s3://{bucket}/{prefix}",
        "S3DataDistributionType": "FullyReplicated",
    }
    return {"ChannelName": name, "DataSource": {"S3DataSource": source}, "ContentType": "text/csv"}


@pytest.mark.parametrize(
    ("case", "hyperparameters", "channels", "reason"),
    [
        (
            "no-round",
            {"objective": "binary:logistic"},
            None,
            "ClientError: Missing required hyperparameter: num_round",
        ),
        (
            "extra-hp",
            {"num_round": "5", "colour": "red"},
            None,
            "ClientError: Extraneous hyperparameter found: colour",
        ),
        (
            "extra-ch",
            {"num_round": "5"},
            [("train", "data/train"), ("test", "data/train")],
            "ClientError: Extraneous channel found: test",
        ),
        (
            "no-train",
            {"num_round": "5"},
            [("validation", "data/train")],
            "ClientError: Missing required channel: train",
        ),
    ],
)
def test_user_mistakes_fail_the_job_with_the_containers_message(
    aws: AwsClients,
    setup: tuple[str, str],
    case: str,
    hyperparameters: dict[str, str],
    channels: list[tuple[str, str]] | None,
    reason: str,
) -> None:
    role, bucket = setup
    sm = aws.client("sagemaker")
    over: dict[str, Any] = {"HyperParameters": hyperparameters}
    if channels is not None:
        over["InputDataConfig"] = [_channel(bucket, name, prefix) for name, prefix in channels]
    sm.create_training_job(**_request(f"user-mistake-{case}", role, bucket, **over))
    desc = _wait(sm, f"user-mistake-{case}")
    assert desc["TrainingJobStatus"] == "Failed"
    assert desc["FailureReason"].startswith(reason), desc["FailureReason"]
    assert "ModelArtifacts" not in desc or not _artifact_exists(aws, desc)


def _artifact_exists(aws: AwsClients, desc: dict[str, Any]) -> bool:
    bucket, _, key = desc["ModelArtifacts"]["S3ModelArtifacts"][len("s3://") :].partition("/")
    try:
        aws.client("s3").head_object(Bucket=bucket, Key=key)
    except aws.client("s3").exceptions.ClientError:
        return False
    return True
