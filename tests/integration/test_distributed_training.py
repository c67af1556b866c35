"""Issue 10: multi-instance training on Dask, through a real server started with ``--compute dask``.

Each job gets a LocalCluster of InstanceCount worker processes (1 GiB each here). Checked: the SDK v2
tutorial with ``instance_count=2`` on the bank data scores like ``xgboost.train``; FullyReplicated gives
each host every row and ShardedByS3Key splits the objects (per-host row counts in each host's own log
stream); a synthetic set larger than one worker's memory limit trains; killing a worker fails the job
within 60 s; a script-mode job sees SM_HOSTS and reaches the job's workers with ``distributed.Client()``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sagelocal.launcher import ServerProcess
from tests.conftest import AwsClients
from tests.integration.bank_support import TUTORIAL
from tests.integration.role_support import sagemaker_role
from tests.integration.test_script_mode import SKLEARN_IMAGE, _sourcedir
from tests.integration.test_training_sdk import _auc, _direct_auc, _load_csv

WORKER_MEMORY = 2**30
IMAGE = "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-xgboost:1.7-1"
GROUP = "/aws/sagemaker/TrainingJobs"

BANK_CHANNELS = {
    "train": ["bank/train", "FullyReplicated"],
    "validation": ["bank/validation", "FullyReplicated"],
}
SDK_FIT = """
import json, sys
import sagelocal.compat.sagemaker_sdk  # noqa: F401
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput

role, bucket, region, hyperparameters, channels = sys.argv[1:6]
xgb = Estimator(image_uris.retrieve("xgboost", region, "1.7-1"), role, instance_count=2,
                instance_type="ml.m5.xlarge", output_path=f"s3://{bucket}/output")
xgb.set_hyperparameters(**json.loads(hyperparameters))
xgb.fit({name: TrainingInput(f"s3://{bucket}/{prefix}", content_type="csv", distribution=distribution)
         for name, (prefix, distribution) in json.loads(channels).items()}, logs=True)
print("MODEL", xgb.model_data)
print("JOB", xgb.latest_training_job.name)
"""


@pytest.fixture(scope="module")
def dask_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsClients]:
    home = tmp_path_factory.mktemp("dask-home")
    args = ["--compute", "dask", "--dask-worker-memory", str(WORKER_MEMORY)]
    with (
        (home.parent / "dask-server.log").open("w") as log,
        ServerProcess(home, extra_args=args, log=log) as srv,
    ):
        yield AwsClients(srv)


@pytest.fixture(scope="module")
def setup(dask_aws: AwsClients, bank: tuple[Path, Path]) -> tuple[str, str]:
    aws = dask_aws
    account = aws.client("sts").get_caller_identity()["Account"]
    role = sagemaker_role(aws.client("iam"), account, "DaskTrainingRole")
    bucket = "sagemaker-dask-training"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.server.region})
    train, test = bank
    s3.upload_file(str(train), bucket, "bank/train/train.csv")
    s3.upload_file(str(test), bucket, "bank/validation/validation.csv")
    lines = train.read_text().splitlines(keepends=True)
    for i, chunk in enumerate(np.array_split(np.array(lines, dtype=object), 4)):  # 4 objects to shard
        s3.put_object(Bucket=bucket, Key=f"bank/parts/part-{i}.csv", Body="".join(chunk).encode())
    return role, bucket


def _streams(aws: AwsClients, job: str) -> dict[str, str]:
    """host -> the text of its log stream."""
    logs = aws.client("logs")
    try:
        found = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=f"{job}/")["logStreams"]
    except logs.exceptions.ResourceNotFoundException:  # no job has logged yet
        return {}
    out = {}
    for stream in found:
        name = stream["logStreamName"]
        assert re.fullmatch(rf"{re.escape(job)}/algo-\d+-\d+", name), name
        events = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True)["events"]
        out[name.split("/")[1].rsplit("-", 1)[0]] = "\n".join(e["message"] for e in events)
    return out


def _rows(text: str, channel: str = "train") -> int:
    found = re.findall(rf"Channel {channel}: (\d+) rows from \d+ files on this host", text)
    return int(found[-1]) if found else 0


def _request(
    name: str, role: str, bucket: str, prefix: str, dist: str, count: int = 2, **hps: str
) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": role,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{bucket}/{prefix}",
                        "S3DataDistributionType": dist,
                    }
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": count, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "HyperParameters": {"objective": "binary:logistic", "num_round": "5", "max_depth": "3"} | hps,
    }


def _wait(sm: Any, name: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desc = sm.describe_training_job(TrainingJobName=name)
        if desc["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return desc
        time.sleep(0.5)
    raise AssertionError(f"{name} still {desc['TrainingJobStatus']} after {timeout} s")


def _sdk_fit(aws: AwsClients, role: str, bucket: str, hps: dict[str, Any], channels: dict[str, Any]) -> str:
    """The SDK v2's Estimator(instance_count=2).fit(..., logs=True) in a subprocess; its stdout."""
    env = aws.env | {"SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    args = [
        sys.executable,
        "-c",
        SDK_FIT,
        role,
        bucket,
        aws.server.region,
        json.dumps(hps),
        json.dumps(channels),
    ]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return proc.stdout


def test_sdk_two_instances_on_bank_data_score_like_one(
    dask_aws: AwsClients, setup: tuple[str, str], bank: tuple[Path, Path]
) -> None:
    import io
    import tarfile

    import xgboost

    role, bucket = setup
    out = _sdk_fit(dask_aws, role, bucket, TUTORIAL, BANK_CHANNELS)
    rounds = re.findall(r"\[(\d+)\]#011train-logloss:[0-9.]+#011validation-logloss:", out)
    assert [int(r) for r in rounds] == list(range(100)), out[-3000:]  # logged once, not once per worker
    job = out.split("JOB ", 1)[1].split()[0]
    desc = dask_aws.client("sagemaker").describe_training_job(TrainingJobName=job)
    assert desc["TrainingJobStatus"] == "Completed" and desc["ResourceConfig"]["InstanceCount"] == 2
    assert {m["MetricName"] for m in desc["FinalMetricDataList"]} >= {"train:logloss", "validation:logloss"}

    streams = _streams(dask_aws, job)
    assert sorted(streams) == ["algo-1", "algo-2"]
    total = len(bank[0].read_text().splitlines())
    for host, text in streams.items():  # FullyReplicated: every host holds every row
        assert f"{host} is Dask worker tcp://127.0.0.1:" in text and "memory limit 1.00 GiB" in text
        assert _rows(text) == total, text[-2000:]
        assert "Channel train (FullyReplicated): 1 of 1 S3 objects" in text

    model = out.split("MODEL ", 1)[1].split()[0]
    body = dask_aws.client("s3").get_object(Bucket=bucket, Key=model.split(f"s3://{bucket}/", 1)[1])["Body"]
    with tarfile.open(fileobj=io.BytesIO(body.read()), mode="r:gz") as tar:
        assert tar.getnames() == ["xgboost-model"]
        member = tar.extractfile("xgboost-model")
        assert member is not None
        booster = xgboost.Booster()
        booster.load_model(bytearray(member.read()))
    y_test, x_test = _load_csv(bank[1])
    job_auc, single_auc = _auc(y_test, booster.predict(xgboost.DMatrix(x_test))), _direct_auc(bank)
    print(f"2-instance AUC {job_auc:.6f}, single-node xgboost.train AUC {single_auc:.6f}")
    assert abs(job_auc - single_auc) < 0.01 and job_auc > 0.7


def test_sharded_by_s3_key_splits_objects_between_hosts(
    dask_aws: AwsClients, setup: tuple[str, str], bank: tuple[Path, Path]
) -> None:
    role, bucket = setup
    sm = dask_aws.client("sagemaker")
    sm.create_training_job(**_request("dask-sharded", role, bucket, "bank/parts", "ShardedByS3Key"))
    desc = _wait(sm, "dask-sharded")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    streams = _streams(dask_aws, "dask-sharded")
    total = len(bank[0].read_text().splitlines())
    rows = {host: _rows(text) for host, text in streams.items()}
    assert sorted(rows) == ["algo-1", "algo-2"] and sum(rows.values()) == total, rows
    assert all(0 < n < total for n in rows.values()), rows
    for text in streams.values():
        assert "Channel train (ShardedByS3Key): 2 of 4 S3 objects" in text
        assert "Channel train: " in text and " rows from 2 files on this host" in text


def test_killing_a_worker_fails_the_job_within_60_seconds(
    dask_aws: AwsClients, setup: tuple[str, str]
) -> None:
    role, bucket = setup
    sm = dask_aws.client("sagemaker")
    name = "dask-kill-a-worker"
    sm.create_training_job(
        **_request(name, role, bucket, "bank/train", "FullyReplicated", num_round="100000")
    )
    pid, deadline = None, time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until training runs, then find algo-2's process
        streams = _streams(dask_aws, name)
        found = re.search(r"algo-2 is Dask worker \S+ \(pid (\d+)", streams.get("algo-2", ""))
        if found and re.search(r"\[\d+\]#011train-logloss", streams.get("algo-1", "")):
            pid = int(found.group(1))
            break
        time.sleep(0.5)
    assert pid is not None, "training never started"
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    desc = _wait(sm, name, timeout=60)
    took = time.monotonic() - killed
    print(f"failed {took:.1f} s after the kill: {desc.get('FailureReason')}")
    assert desc["TrainingJobStatus"] == "Failed" and took < 60
    assert desc["FailureReason"].startswith("AlgorithmError: Dask worker algo-2 (tcp://127.0.0.1:")
    assert "left the cluster" in desc["FailureReason"]


DASK_SCRIPT = """
import json, os
from distributed import Client

hosts = json.loads(os.environ["SM_HOSTS"])
client = Client()  # DASK_SCHEDULER_ADDRESS: the job's own cluster
workers = client.scheduler_info(n_workers=-1)["workers"]
print(f"hosts={hosts} current={os.environ['SM_CURRENT_HOST']} workers={len(workers)}", flush=True)
squares = client.gather(client.map(lambda x: x * x, range(10)))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "result.json"), "w") as f:
    json.dump({"hosts": hosts, "workers": len(workers), "sum": sum(squares)}, f)
"""


def test_script_mode_sees_hosts_and_the_jobs_dask_cluster(
    dask_aws: AwsClients, setup: tuple[str, str]
) -> None:
    role, bucket = setup
    uri = _sourcedir(dask_aws, bucket, "code/dask/sourcedir.tar.gz", {"train.py": DASK_SCRIPT})
    request = _request("dask-script", role, bucket, "bank/train", "FullyReplicated", count=3)
    request["AlgorithmSpecification"]["TrainingImage"] = SKLEARN_IMAGE
    request["HyperParameters"] = {
        "sagemaker_program": json.dumps("train.py"), "sagemaker_submit_directory": json.dumps(uri),
    }  # fmt: skip
    sm = dask_aws.client("sagemaker")
    sm.create_training_job(**request)
    desc = _wait(sm, "dask-script")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    text = _streams(dask_aws, "dask-script")["algo-1"]
    assert "hosts=['algo-1', 'algo-2', 'algo-3'] current=algo-1 workers=3" in text, text[-3000:]


def _decimal_csv(rng: np.random.Generator, rows: int, columns: int) -> bytes:
    """`rows` lines of `columns` values `d.dddddd` (9 bytes of CSV each, 4 of float32); the label (first)
    is 1 when the units of features 1 and 2 sum to 9 or more."""
    digits = rng.integers(0, 10, size=(rows, columns, 7), dtype=np.uint8)
    digits[:, 0, 0] = (digits[:, 1, 0] + digits[:, 2, 0]) >= 9
    digits[:, 0, 1:] = 0
    text = np.empty((rows, columns, 9), dtype=np.uint8)
    text[:, :, 0] = digits[:, :, 0] + ord("0")
    text[:, :, 1] = ord(".")
    text[:, :, 2:8] = digits[:, :, 1:] + ord("0")
    text[:, :, 8] = ord(",")
    text[:, -1, 8] = ord("\n")
    return text.tobytes()


def test_a_set_larger_than_one_workers_memory_trains_across_two(
    dask_aws: AwsClients, setup: tuple[str, str]
) -> None:
    """1.09 GiB of CSV on two workers limited to 1 GiB each (the issue's measure: 3 GB of CSV on 2 GB
    workers); sharded by S3 key, each worker downloads, parses and holds only its half."""
    role, bucket = setup
    s3, sm = dask_aws.client("s3"), dask_aws.client("sagemaker")
    rng = np.random.default_rng(10)
    objects, rows, columns = 24, 136_000, 40
    size = 0
    for i in range(objects):
        body = _decimal_csv(rng, rows, columns)
        size += len(body)
        s3.put_object(Bucket=bucket, Key=f"big/part-{i:02d}.csv", Body=body)
    assert size > WORKER_MEMORY, (size, WORKER_MEMORY)
    hps = {"objective": "binary:logistic", "num_round": 5, "max_depth": 3, "eval_metric": "auc"}
    out = _sdk_fit(dask_aws, role, bucket, hps, {"train": ["big/", "ShardedByS3Key"]})
    job = out.split("JOB ", 1)[1].split()[0]
    desc = sm.describe_training_job(TrainingJobName=job)
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    streams = _streams(dask_aws, job)
    half = objects * rows // 2
    assert {host: _rows(text) for host, text in streams.items()} == {"algo-1": half, "algo-2": half}
    for text in streams.values():
        assert (
            "memory limit 1.00 GiB" in text and "Channel train (ShardedByS3Key): 12 of 24 S3 objects" in text
        )
    auc = {m["MetricName"]: m["Value"] for m in desc["FinalMetricDataList"]}["train:auc"]
    print(f"{size / 2**30:.2f} GiB of CSV on 2 workers of 1 GiB: train AUC {auc:.4f}, "
          f"{desc['TrainingTimeInSeconds']} s")  # fmt: skip
    assert auc > 0.9


@pytest.fixture(scope="module")
def existing_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A Dask cluster started on its own, as a team would run one: `dask scheduler` and two `dask worker`s."""
    root = tmp_path_factory.mktemp("dask-cluster")
    dask = str(Path(sys.executable).with_name("dask"))
    info = root / "scheduler.json"
    procs = [subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)],
        stdout=subprocess.DEVNULL, stderr=(root / "scheduler.log").open("w"),
    )]  # fmt: skip
    deadline = time.monotonic() + 60
    while not info.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    for i in range(2):
        procs.append(subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(info), "--nthreads", "1", "--memory-limit", "1GiB",
             "--no-dashboard", "--local-directory", str(root / f"worker-{i}"), "--name", f"w{i}"],
            stdout=subprocess.DEVNULL, stderr=(root / f"worker-{i}.log").open("w"),
        ))  # fmt: skip
    try:
        yield json.loads(info.read_text())["address"], root
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def test_an_existing_cluster_named_by_address(
    existing_cluster: tuple[str, Path], bank: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`--dask-scheduler tcp://...`: jobs take InstanceCount of its workers (downloading into the workers'
    own directories, tidied afterwards); asking for more workers than it has ends in CapacityError."""
    address, root = existing_cluster
    home = tmp_path_factory.mktemp("dask-existing-home")
    env = dict(os.environ) | {"SAGELOCAL_DASK_WORKER_WAIT": "3"}
    with ServerProcess(home, extra_args=["--dask-scheduler", address], env=env) as server:
        aws = AwsClients(server)
        role = sagemaker_role(
            aws.client("iam"), aws.client("sts").get_caller_identity()["Account"], "ClusterRole"
        )
        bucket = "sagemaker-existing-cluster"
        s3, sm = aws.client("s3"), aws.client("sagemaker")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": server.region})
        s3.upload_file(str(bank[0]), bucket, "bank/train/train.csv")
        sm.create_training_job(
            **_request("on-the-team-cluster", role, bucket, "bank/train", "FullyReplicated")
        )
        desc = _wait(sm, "on-the-team-cluster")
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(root.glob("*.log")))
        assert desc["TrainingJobStatus"] == "Completed", f"{desc.get('FailureReason')}\n{logs}"
        streams = _streams(aws, "on-the-team-cluster")
        assert sorted(streams) == ["algo-1", "algo-2"]
        assert all(address in text for text in streams.values())
        assert not list(root.glob("worker-*/**/on-the-team-cluster"))  # the hosts' directories are gone

        sm.create_training_job(
            **_request("too-many-hosts", role, bucket, "bank/train", "FullyReplicated", count=3)
        )
        desc = _wait(sm, "too-many-hosts")
        assert desc["TrainingJobStatus"] == "Failed"
        assert desc["FailureReason"] == (
            "CapacityError: Unable to provision requested ML compute capacity. "
            "Please retry using a different ML instance type."
        )
