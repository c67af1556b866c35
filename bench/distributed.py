"""Distributed training: the same built-in XGBoost job on 1 and on 2 Dask workers, in one run.

A sagelocal server started with ``--compute dask`` (a LocalCluster of InstanceCount worker processes per
job, memory limit auto = machine memory / N) trains a synthetic 2,000,000-row x 20-feature binary set
(numpy, seed 0; label from a noisy linear rule; 8 CSV objects) with ``tree_method=hist``, the tutorial's
other parameters and ``eval_metric=auc``: once with InstanceCount 1 (FullyReplicated: the one host holds
every object) and once with InstanceCount 2 (ShardedByS3Key: each host 4 objects), alternating,
``--repeats`` times. Reported: medians of the wall time from CreateTrainingJob to Completed and of the
Training phase (SecondaryStatusTransitions), the speed-up 1-worker / 2-worker, and each model's AUC on a
held-out 200,000 rows (downloaded model.tar.gz, predicted here) — correctness, not just speed.

On a 2-core machine expect little speed-up: two workers share the same two cores that one worker's two
threads use. The point of distribution here is the memory ceiling (each worker holds half the data) and
that the distributed model is as good as the single-node one.

    .venv/bin/python bench/distributed.py [--rows 2000000] [--repeats 2]
    .venv/bin/python bench/distributed.py --ceiling   # 1.09 GiB of CSV: one 1 GiB worker vs two
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import numpy as np
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sagelocal.launcher import ServerProcess

REGION = "ap-northeast-1"
IMAGE = f"354813040037.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1"
HPS = {
    "max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.8",
    "objective": "binary:logistic", "num_round": "100", "tree_method": "hist", "eval_metric": "auc",
}  # fmt: skip
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})  # fmt: skip
OBJECTS = 8


def synthetic(rows: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal((rows, features)), 4).astype(np.float32)
    w = np.random.default_rng(0).standard_normal(features)
    y = ((x @ w + rng.standard_normal(rows) * 2.0) > 0).astype(np.float32)
    return x, y


def csv_bytes(x: np.ndarray, y: np.ndarray) -> bytes:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sink = io.BytesIO()
    table = pa.table({"y": y.astype(np.int8)} | {f"f{i}": x[:, i] for i in range(x.shape[1])})
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue()


def run_job(
    sm: Any, name: str, role: str, bucket: str, count: int, hps: dict[str, str] = HPS
) -> dict[str, Any]:
    dist = "FullyReplicated" if count == 1 else "ShardedByS3Key"
    t0 = time.perf_counter()
    sm.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=role,
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{bucket}/train/",
                        "S3DataDistributionType": dist,
                    }
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": count, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        HyperParameters=hps,
    )
    while True:
        desc = sm.describe_training_job(TrainingJobName=name)
        if desc["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.2)
    if desc["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"{name}: {desc['TrainingJobStatus']}: {desc.get('FailureReason')}")
    phases = {
        t["Status"]: (t["EndTime"] - t["StartTime"]).total_seconds()
        for t in desc["SecondaryStatusTransitions"]
        if "EndTime" in t
    }
    return {"seconds": time.perf_counter() - t0, "training": phases.get("Training", 0.0), "desc": desc}


def holdout_auc(s3: Any, bucket: str, desc: dict[str, Any], x: np.ndarray, y: np.ndarray) -> float:
    import xgboost
    from sklearn.metrics import roc_auc_score

    uri = desc["ModelArtifacts"]["S3ModelArtifacts"]
    body = s3.get_object(Bucket=bucket, Key=uri.split(f"s3://{bucket}/", 1)[1])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        booster = xgboost.Booster()
        booster.load_model(bytearray(member.read()))
    return float(roc_auc_score(y, booster.predict(xgboost.DMatrix(x))))


def decimal_csv(rng: np.random.Generator, rows: int, columns: int) -> bytes:
    """`rows` lines of `columns` values `d.dddddd` (9 bytes of CSV each); label first, from features 1-2."""
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


def ceiling() -> int:
    """The memory ceiling: 1.09 GiB of CSV (24 objects, 3,264,000 rows x 40 values) on workers limited
    to 1 GiB each. One worker (FullyReplicated) is expected to be killed at its limit; two workers
    (ShardedByS3Key, half each) to complete. Exit 0 when both happen."""
    outcome = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        ServerProcess(
            Path(tmp) / "home", extra_args=["--compute", "dask", "--dask-worker-memory", "1GiB"]
        ) as server,
    ):
        creds = server.credentials()
        sm, s3, iam = (
            boto3.client(s, endpoint_url=server.endpoint_url, region_name=server.region, **creds)
            for s in ("sagemaker", "s3", "iam")
        )
        role = iam.create_role(RoleName="BenchCeiling", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        iam.attach_role_policy(
            RoleName="BenchCeiling", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
        )
        bucket = "sagemaker-bench-ceiling"
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": server.region})
        rng, size = np.random.default_rng(10), 0
        for i in range(24):
            body = decimal_csv(rng, 136_000, 40)
            size += len(body)
            s3.put_object(Bucket=bucket, Key=f"train/part-{i:02d}.csv", Body=body)
        print(f"{size / 2**30:.2f} GiB of CSV; each worker limited to 1 GiB")
        hps = {"objective": "binary:logistic", "num_round": "5", "max_depth": "3", "eval_metric": "auc"}
        for count in (1, 2):
            try:
                run = run_job(sm, f"ceiling-{count}", role, bucket, count, hps)
                outcome[count] = f"Completed in {run['seconds']:.0f} s"
            except SystemExit as failed:
                outcome[count] = str(failed)
            print(f"  {count} worker(s): {outcome[count]}")
    return 0 if outcome[1].startswith("ceiling-1: Failed") and outcome[2].startswith("Completed") else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--ceiling", action="store_true", help="only the memory-ceiling check (see ceiling())"
    )
    args = parser.parse_args()
    if args.ceiling:
        return ceiling()

    x, y = synthetic(args.rows, 20, seed=1)
    x_test, y_test = synthetic(200_000, 20, seed=2)
    results: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    with (
        tempfile.TemporaryDirectory() as tmp,
        ServerProcess(Path(tmp) / "home", extra_args=["--compute", "dask"]) as server,
    ):
        creds = server.credentials()

        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=server.endpoint_url, region_name=server.region,
                                    config=Config(retries={"max_attempts": 1}), **creds)  # fmt: skip

        sm, s3, iam = client("sagemaker"), client("s3"), client("iam")
        role = iam.create_role(RoleName="BenchDistributed", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        iam.attach_role_policy(
            RoleName="BenchDistributed", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
        )
        bucket = "sagemaker-bench-distributed"
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": server.region})
        size = 0
        for i, (xs, ys) in enumerate(
            zip(np.array_split(x, OBJECTS), np.array_split(y, OBJECTS), strict=True)
        ):
            body = csv_bytes(xs, ys)
            size += len(body)
            s3.put_object(Bucket=bucket, Key=f"train/part-{i}.csv", Body=body)
        print(f"{args.rows:,} rows x 20 features: {size / 2**20:.0f} MiB of CSV in {OBJECTS} objects")
        for r in range(args.repeats):
            for count in (1, 2) if r % 2 == 0 else (2, 1):
                run = run_job(sm, f"bench-{count}-workers-{r}", role, bucket, count)
                run["auc"] = holdout_auc(s3, bucket, run.pop("desc"), x_test, y_test)
                results[count].append(run)
                print(f"  {count} worker(s): {run['seconds']:.1f} s (Training {run['training']:.1f} s), "
                          f"held-out AUC {run['auc']:.5f}")  # fmt: skip
    med = {
        n: {k: statistics.median(r[k] for r in runs) for k in ("seconds", "training", "auc")}
        for n, runs in results.items()
    }
    summary = {
        "rows": args.rows, "repeats": args.repeats, "csv_mib": round(size / 2**20),
        "one_worker": med[1], "two_workers": med[2],
        "speedup_wall": med[1]["seconds"] / med[2]["seconds"],
        "speedup_training": med[1]["training"] / med[2]["training"],
        "auc_difference": med[2]["auc"] - med[1]["auc"],
    }  # fmt: skip
    print("\n| workers | job wall (median) | Training phase | held-out AUC |\n|---|---|---|---|")
    for n in (1, 2):
        print(f"| {n} | {med[n]['seconds']:.1f} s | {med[n]['training']:.1f} s | {med[n]['auc']:.5f} |")
    print(f"\nspeed-up 1→2 workers: wall {summary['speedup_wall']:.2f}x, Training {summary['speedup_training']:.2f}x; "
          f"AUC difference {summary['auc_difference']:+.5f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
