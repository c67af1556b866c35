"""Training-job overhead: a built-in XGBoost training job end to end vs. ``xgboost.train`` called directly.

One run, one machine. For each data set the same label-first, headerless CSV is (a) uploaded once to a
sagelocal server and trained by a training job (the 1.7-1 image), timed from CreateTrainingJob until
DescribeTrainingJob says Completed and the model.tar.gz is in S3 (a 0.1 s Describe poll), and (b) loaded
with ``xgboost.DMatrix("<file>?format=csv&label_column=0")`` and trained with ``xgboost.train`` in this
process, same parameters, timed from the DMatrix load to the trained Booster. Job and direct runs
alternate; medians are reported. Fixed overhead = job - direct; ratio = job / direct.

Data: (a) the bank-marketing data prepared the tutorial's way (one-hot, ``y_yes`` first, 70% train);
(b) a synthetic 1,000,000-row x 50-feature binary set (numpy, seed 0), written once to the cache dir.
Parameters: the tutorial's (max_depth 5, eta 0.2, gamma 4, min_child_weight 6, subsample 0.8,
binary:logistic, num_round 100); the 1M-row set adds ``tree_method=hist`` in both contenders.
The job's entry point sets ``OMP_WAIT_POLICY=PASSIVE`` before importing xgboost; this script does the
same so both run the same OpenMP configuration. Targets (issue 4): fixed overhead under 1.5 s per job
and under 10% on the 1M-row set.

    .venv/bin/python bench/training.py [--bank-repeats 5] [--big-repeats 2] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as sagelocal/algorithms/xgboost/__main__.py

import boto3
import numpy as np
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sagelocal.launcher import ServerProcess

REGION = "ap-northeast-1"
IMAGE = f"354813040037.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1"
BANK_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank-marketing" / "bank-additional.csv"
TUTORIAL = {
    "max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.8",
    "objective": "binary:logistic", "num_round": "100",
}  # fmt: skip
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


def write_bank(path: Path) -> Path:
    import pandas as pd

    frame = pd.get_dummies(pd.read_csv(BANK_CSV, sep=";"))
    frame = pd.concat([frame["y_yes"], frame.drop(["y_no", "y_yes"], axis=1)], axis=1).astype(float)
    shuffled = frame.sample(frac=1, random_state=1729)
    shuffled.iloc[: int(0.7 * len(shuffled))].to_csv(path, index=False, header=False)
    return path


def write_synthetic(path: Path, rows: int, features: int = 50) -> Path:
    """Label-first, no header; 4-decimal features; labels from a noisy linear rule (seed 0)."""
    if path.exists():
        return path
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((rows, features)), 4)
    w = rng.standard_normal(features)
    y = ((x @ w + rng.standard_normal(rows) * 2.0) > 0).astype(np.int8)
    columns = {"y": y} | {f"f{i}": x[:, i] for i in range(features)}
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(pa.table(columns), tmp, pacsv.WriteOptions(include_header=False))
    tmp.replace(path)
    return path


def params_of(hyperparameters: dict[str, str]) -> tuple[dict[str, Any], int]:
    params: dict[str, Any] = {}
    for key, value in hyperparameters.items():
        if key != "num_round":
            try:
                params[key] = float(value) if "." in value else int(value)
            except ValueError:
                params[key] = value
    return params | {"seed": 0}, int(hyperparameters["num_round"])


def run_direct(csv: Path, hyperparameters: dict[str, str]) -> float:
    import xgboost as xgb

    params, rounds = params_of(hyperparameters)
    import warnings

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Text file input has been deprecated since 3.1"
        dtrain = xgb.DMatrix(f"{csv}?format=csv&label_column=0")
    booster = xgb.train(params, dtrain, num_boost_round=rounds)
    booster.save_raw()
    return time.perf_counter() - t0


def run_job(
    sm: Any, s3: Any, name: str, role: str, bucket: str, key: str, hps: dict[str, str]
) -> dict[str, Any]:
    t0 = time.perf_counter()
    sm.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=role,
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{bucket}/{key}",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "text/csv",
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/output"},
        ResourceConfig={"InstanceType": "ml.m4.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        HyperParameters=hps,
    )
    while True:
        desc = sm.describe_training_job(TrainingJobName=name)
        if desc["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.1)
    if desc["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"{name}: {desc['TrainingJobStatus']}: {desc.get('FailureReason')}")
    artifact = desc["ModelArtifacts"]["S3ModelArtifacts"]
    s3.head_object(Bucket=bucket, Key=artifact.split(f"s3://{bucket}/", 1)[1])
    elapsed = time.perf_counter() - t0
    transitions = desc["SecondaryStatusTransitions"]
    phases = {
        t["Status"]: (t["EndTime"] - t["StartTime"]).total_seconds()
        for t in transitions
        if "EndTime" in t and "StartTime" in t
    }
    return {"seconds": elapsed, "phases": phases}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bank-repeats", type=int, default=5)
    parser.add_argument("--big-repeats", type=int, default=2)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "sagelocal-bench-training"
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    big_csv = write_synthetic(args.cache / f"synthetic-{args.rows}x50.csv", args.rows)
    print(
        f"synthetic data: {big_csv} ({big_csv.stat().st_size / 2**20:.0f} MiB, {time.perf_counter() - t:.1f} s)"
    )
    sets = [
        ("bank-marketing (70% train)", write_bank(args.cache / "bank-train.csv"), TUTORIAL, args.bank_repeats)
    ]
    big_hps = TUTORIAL | {"tree_method": "hist"}
    sets.append((f"synthetic {args.rows:,} x 50, hist", big_csv, big_hps, args.big_repeats))

    rows = []
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp) / "home") as server:
        creds = server.credentials()

        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=server.endpoint_url, region_name=server.region,
                                config=Config(retries={"max_attempts": 1}), **creds)  # fmt: skip

        sm, s3, iam = client("sagemaker"), client("s3"), client("iam")
        role = iam.create_role(RoleName="BenchTraining", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        bucket = "bench-training"
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": server.region})
        for n, (label, csv, hps, repeats) in enumerate(sets):
            key = f"data/{n}/train/{csv.name}"
            s3.upload_file(str(csv), bucket, key)
            if n == 0:
                run_direct(csv, hps)  # warm-up: imports, page cache (the big file is cached by its upload)
            jobs, direct, phases = [], [], []
            for i in range(repeats):
                job = run_job(sm, s3, f"bench-{n}-{i}", role, bucket, key.rsplit("/", 1)[0], hps)
                jobs.append(job["seconds"])
                phases.append(job["phases"])
                direct.append(run_direct(csv, hps))
                print(
                    f"{label} #{i}: job {jobs[-1]:.2f} s, direct {direct[-1]:.2f} s, phases {job['phases']}"
                )
            job_s, direct_s = statistics.median(jobs), statistics.median(direct)
            rows.append((label, csv.stat().st_size / 2**20, repeats, job_s, direct_s, min(jobs), min(direct)))

    print()
    print(
        "| data | CSV MiB | runs | job s (median) | direct s (median) | fixed overhead s | ratio | overhead % |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, mib, repeats, job_s, direct_s, _, _ in rows:
        over = job_s - direct_s
        print(f"| {label} | {mib:.1f} | {repeats} | {job_s:.2f} | {direct_s:.2f} | {over:.2f} | "
              f"{job_s / direct_s:.2f} | {100 * over / direct_s:.0f}% |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
