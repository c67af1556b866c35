"""The training-job state machine: recorded phases and outcomes, crash recovery, the supervisor
with a real child process (a stand-in algorithm, no S3 needed), and image resolution."""

from __future__ import annotations

import io
import itertools
import json
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from sagelocal.compute import images
from sagelocal.compute.channels import DownloadError, channel_objects, split_s3_uri
from sagelocal.compute.runner import write_config
from sagelocal.compute.supervisor import INTERNAL_ERROR, JobHandle, JobSpec, Outcome, run_job
from sagelocal.services.sagemaker.runs import LOG_GROUP, RECOVERED_REASON, JobRecorder, TrainingRunner
from sagelocal.store.models.logs import LogEvent
from sagelocal.store.models.sagemaker import TrainingJob
from tests.unit.training_support import TrainingClient, request

STANDIN = """
import os, pathlib, sys, time
ws = pathlib.Path(sys.argv[sys.argv.index("--workspace") + 1])
mode = sys.argv[1]
print("started", mode, flush=True)
if mode == "crash":
    os.kill(os.getppid(), 9)  # the job's own process dies under the algorithm
    time.sleep(5)
if mode == "fail":
    (ws / "output/failure").write_text("boom")
    sys.exit(3)
time.sleep(60)
"""


@pytest.fixture
def sm(tmp_path: Path) -> TrainingClient:
    return TrainingClient(tmp_path)


def _job(sm: TrainingClient, name: str = "j") -> TrainingJob:
    sm.create_training_job(**request(name, sm.role_arn))
    return sm.launched[-1][0]


def test_recorded_phases_then_completed(sm: TrainingClient) -> None:
    rec = JobRecorder(sm.db, _job(sm))
    for phase in ("Downloading", "Training", "Uploading"):
        rec.phase(phase)
    rec.log("[0]#011train-rmse:0.4\n")
    rec.finished(
        Outcome("Completed", "Completed", model_uri="s3://b/out/j/output/model.tar.gz", metrics={"m": 0.5})
    )
    desc = sm.describe_training_job(TrainingJobName="j")
    steps = desc["SecondaryStatusTransitions"]
    assert [t["Status"] for t in steps] == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all(a["EndTime"] == b["StartTime"] for a, b in itertools.pairwise(steps))
    assert steps[-1]["EndTime"] == steps[-1]["StartTime"]
    assert desc["TrainingStartTime"] == steps[1]["StartTime"]
    assert desc["TrainingEndTime"] == steps[-1]["StartTime"]
    assert desc["BillableTimeInSeconds"] == desc["TrainingTimeInSeconds"] >= 1
    assert [(m["MetricName"], m["Value"]) for m in desc["FinalMetricDataList"]] == [("m", 0.5)]
    with sm.db.read() as s:
        events = list(s.scalars(select(LogEvent)))
    assert [e.message for e in events] == ["[0]#011train-rmse:0.4"]
    assert LOG_GROUP == "/aws/sagemaker/TrainingJobs"


def test_failure_reason_is_cut_at_1024(sm: TrainingClient) -> None:
    rec = JobRecorder(sm.db, _job(sm))
    rec.phase("Downloading")
    rec.finished(Outcome("Failed", "Failed", "AlgorithmError: " + "x" * 5000))
    desc = sm.describe_training_job(TrainingJobName="j")
    assert desc["TrainingJobStatus"] == "Failed" and len(desc["FailureReason"]) == 1024


def test_phases_after_a_stop_request_keep_stopping_visible(sm: TrainingClient) -> None:
    sm.api.stop_job = lambda key: True
    rec = JobRecorder(sm.db, _job(sm))
    sm.stop_training_job(TrainingJobName="j")
    rec.phase("Training")
    assert sm.describe_training_job(TrainingJobName="j")["SecondaryStatus"] == "Stopping"
    rec.finished(Outcome("Stopped", "Stopped"))
    desc = sm.describe_training_job(TrainingJobName="j")
    assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == ("Stopped", "Stopped")


def test_recover_fails_running_jobs_only(sm: TrainingClient, tmp_path: Path) -> None:
    _job(sm, "running")
    done = _job(sm, "done")
    JobRecorder(sm.db, done).finished(Outcome("Completed", "Completed"))
    assert TrainingRunner(sm.db, tmp_path / "jobs", "http://127.0.0.1:1").recover() == 1
    desc = sm.describe_training_job(TrainingJobName="running")
    assert desc["TrainingJobStatus"] == "Failed" and desc["FailureReason"] == RECOVERED_REASON
    assert sm.describe_training_job(TrainingJobName="done")["TrainingJobStatus"] == "Completed"


def test_runner_credentials_are_the_roles(sm: TrainingClient, tmp_path: Path) -> None:
    job = _job(sm)
    creds = TrainingRunner(sm.db, tmp_path / "jobs", "http://x").credentials(job, sm.launched[-1][1])
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]


# --- the supervisor with a real child process ----------------------------------------------------


class Events:
    def __init__(self) -> None:
        self.phases: list[str] = []
        self.lines: list[str] = []
        self.outcome: Outcome | None = None

    def phase(self, status: str) -> None:
        self.phases.append(status)

    def log(self, line: str) -> None:
        self.lines.append(line.strip())

    def finished(self, outcome: Outcome) -> None:
        self.outcome = outcome


def _spec(tmp_path: Path, mode: str, max_runtime: float = 60) -> JobSpec:
    script = tmp_path / "standin.py"
    script.write_text(STANDIN)
    return JobSpec(
        name="j",
        workspace=tmp_path / "ws",
        algorithm_argv=[sys.executable, str(script), mode],
        algorithm_env={},
        channels=[],
        input_mode="File",
        hyperparameters={"a": "1"},
        model_uri="s3://b/k",
        endpoint_url="http://127.0.0.1:1",
        region="ap-northeast-1",
        role_arn="arn:aws:iam::123456789012:role/r",
        credentials={"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": "T"},
        max_runtime=max_runtime,
        stop_grace=2,
    )


def test_supervisor_algorithm_error(tmp_path: Path) -> None:
    events = Events()
    outcome = run_job(_spec(tmp_path, "fail"), events, JobHandle())
    assert outcome == Outcome("Failed", "Failed", "AlgorithmError: boom")
    assert events.phases == ["Downloading", "Training"] and "started fail" in events.lines
    assert json.loads((tmp_path / "ws/input/config/hyperparameters.json").read_text()) == {"a": "1"}


def test_supervisor_max_runtime_and_credential_refresh(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "sleep", max_runtime=1)
    fresh = {"AccessKeyId": "B", "SecretAccessKey": "S2", "SessionToken": "T2"}
    spec.refresh, spec.refresh_every = (lambda: fresh), 0.2
    started = time.monotonic()
    outcome = run_job(spec, Events(), JobHandle())
    assert (outcome.status, outcome.secondary) == ("Stopped", "MaxRuntimeExceeded")
    assert time.monotonic() - started < 10
    assert json.loads(spec.credentials_file.read_text()) == fresh
    assert spec.credentials_file.stat().st_mode & 0o777 == 0o600
    assert "SessionToken" not in spec.to_json()


def test_supervisor_process_dying_unexpectedly_fails_the_job(tmp_path: Path) -> None:
    outcome = run_job(_spec(tmp_path, "crash"), Events(), JobHandle())
    assert outcome.status == "Failed"
    assert outcome.failure_reason == f"{INTERNAL_ERROR} (job process exited with code -9)"


def test_supervisor_stop_while_queued(tmp_path: Path) -> None:
    handle = JobHandle()
    handle.stop()
    events = Events()
    assert run_job(_spec(tmp_path, "sleep"), events, handle).status == "Stopped"
    assert events.phases == [] and not (tmp_path / "ws").exists()


def test_images() -> None:
    for uri, version in [
        ("354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-xgboost:1.7-1", "1.7-1"),
        ("246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3", "1.0-1"),
        ("450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:3.2-0", "3.2-0"),
        ("433757028032.dkr.ecr.us-west-2.amazonaws.com/xgboost:latest", "latest"),
        ("501404015308.dkr.ecr.ap-northeast-1.amazonaws.com/xgboost:1", "1"),
    ]:
        algo = images.resolve(uri)
        assert algo.env["SAGELOCAL_XGBOOST_VERSION"] == version and algo.env["SAGELOCAL_IMAGE_URI"] == uri
    for bad in ("my-image:1", "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:2"):
        with pytest.raises(images.UnknownImage):
            images.resolve(bad)


def test_runner_helpers(tmp_path: Path) -> None:
    assert split_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b/")
    assert split_s3_uri("https://bucket.s3.ap-northeast-1.amazonaws.com/k") == ("bucket", "k")
    channel = {
        "ChannelName": "train",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/t"}},
    }
    write_config(
        tmp_path,
        {"channels": [channel | {"ContentType": "csv"}], "input_mode": "File", "hyperparameters": {}},
    )
    config = json.loads((tmp_path / "input/config/inputdataconfig.json").read_text())
    assert config == {
        "train": {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
            "ContentType": "csv",
        }
    }
    assert json.loads((tmp_path / "input/config/resourceconfig.json").read_text())["current_host"] == "algo-1"


class FakeS3:
    """list_objects_v2 paging and get_object over a dict of bucket -> {key: bytes}."""

    def __init__(self, objects: dict[str, dict[str, bytes]]) -> None:
        self.objects = objects

    def get_paginator(self, _name: str) -> FakeS3:
        return self

    def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, object]]:
        keys = sorted(k for k in self.objects.get(Bucket, {}) if k.startswith(Prefix))
        return [{"Contents": [{"Key": k} for k in keys]}] if keys else [{}]

    def get_object(self, Bucket: str, Key: str) -> dict[str, object]:
        return {"Body": io.BytesIO(self.objects[Bucket][Key])}


def test_channel_objects_prefix_and_manifest() -> None:
    manifest = json.dumps([{"prefix": "s3://data/set/"}, "a.csv", "sub/b.csv"]).encode()
    s3 = FakeS3({"b": {"train/x.csv": b"", "train/d/y.csv": b"", "train/dir/": b"", "m.json": manifest}})
    spec = {"region": "ap-northeast-1", "role_arn": "arn:aws:iam::123456789012:role/r"}
    prefix = {"S3DataType": "S3Prefix", "S3Uri": "s3://b/train/"}
    assert channel_objects(s3, prefix, spec) == [
        ("b", "train/d/y.csv", "d/y.csv"),
        ("b", "train/x.csv", "x.csv"),
    ]
    partial = {"S3DataType": "S3Prefix", "S3Uri": "s3://b/train/x"}  # a key prefix, not a folder
    assert channel_objects(s3, partial, spec) == [("b", "train/x.csv", "x.csv")]
    listed = {"S3DataType": "ManifestFile", "S3Uri": "s3://b/m.json"}
    assert channel_objects(s3, listed, spec) == [
        ("data", "set/a.csv", "a.csv"),
        ("data", "set/sub/b.csv", "sub/b.csv"),
    ]
    with pytest.raises(
        DownloadError, match=r'^No S3 objects found under S3 URL "s3://b/none" given in input'
    ):
        channel_objects(s3, {"S3DataType": "S3Prefix", "S3Uri": "s3://b/none"}, spec)
