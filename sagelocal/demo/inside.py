"""The demo's work inside the notebook instance, as its kernels run it: no keys and no endpoint
URLs in code — the SageMaker SDK finds the instance's role and default bucket, boto3 acts as the
role. The tutorial's steps in order: session and bucket, data, upload, train, deploy, evaluate,
and (unless kept) delete the endpoint, its configuration, the model and the uploaded objects.

Run as `python -m sagelocal.demo.inside OUT_DIR [--bucket B] [--keep]`; each finished step is one
stdout line `@@demo {json}` that `sagelocal demo` renders.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

EVENT = "@@demo "
PREFIX = "sagelocal-demo"
INSTANCE_TYPE = "ml.m5.xlarge"
SEED = 1729
HYPERPARAMETERS: dict[str, Any] = {
    "max_depth": 5, "eta": 0.2, "gamma": 4, "min_child_weight": 6, "subsample": 0.8,
    "objective": "binary:logistic", "num_round": 100,
}  # fmt: skip


def bank_csv() -> Path:
    """The UCI bank-marketing sample shipped in the package (CC BY 4.0; see its NOTICE.md)."""
    return Path(str(resources.files("sagelocal") / "data" / "bank-marketing" / "bank-additional.csv"))


def split_bank(csv: Path) -> tuple[Any, Any]:
    """The tutorial's preparation: one-hot encoding, label (`y_yes`) first, 70/30 split, seed 1729."""
    import pandas as pd

    frame = pd.get_dummies(pd.read_csv(csv, sep=";"))
    frame = pd.concat([frame["y_yes"], frame.drop(["y_no", "y_yes"], axis=1)], axis=1).astype(float)
    shuffled = frame.sample(frac=1, random_state=SEED)
    cut = int(0.7 * len(shuffled))
    return shuffled.iloc[:cut], shuffled.iloc[cut:]


def emit(step: str, started: float, **detail: Any) -> None:
    payload = {"step": step, "seconds": round(time.perf_counter() - started, 3), **detail}
    print(EVENT + json.dumps(payload, default=str), flush=True)


class Workflow:
    """One demo run's state, step by step."""

    def __init__(self, out_dir: Path, bucket: str | None, keep: bool) -> None:
        self.out_dir, self.bucket_name, self.keep = out_dir, bucket, keep
        self.work = Path.cwd() / PREFIX  # on the instance's volume, where a user would work
        self.work.mkdir(exist_ok=True)
        self.state: dict[str, Any] = {}

    def session(self) -> dict[str, Any]:
        import boto3
        import sagemaker

        self.sm_session = sagemaker.Session()
        self.role = sagemaker.get_execution_role()
        self.region = self.sm_session.boto_region_name
        self.s3 = boto3.client("s3")
        caller = boto3.client("sts").get_caller_identity()
        self.account = caller["Account"]
        bucket = self.bucket_name or f"sagemaker-{self.region}-{self.account}"
        existed = self._bucket_exists(bucket)
        if self.bucket_name:
            if not existed:
                self._create_bucket(bucket)
        else:
            bucket = self.sm_session.default_bucket()
        self.bucket = bucket
        examples = sorted(str(p) for p in Path("examples").rglob("*") if p.is_file())
        return {
            "role": self.role, "caller": caller["Arn"], "bucket": bucket, "created_bucket": not existed,
            "examples": examples,
        }  # fmt: skip

    def _create_bucket(self, bucket: str) -> None:
        """CreateBucket in the session's region (us-east-1 takes no location constraint)."""
        if self.region == "us-east-1":
            self.s3.create_bucket(Bucket=bucket)
        else:
            self.s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region}
            )

    def _bucket_exists(self, bucket: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.s3.head_bucket(Bucket=bucket)
            return True
        except ClientError:
            return False

    def denied(self) -> dict[str, Any]:
        """AmazonSageMakerFullAccess may create any bucket but write only to *sagemaker* ones: show
        the denial AWS gives for a bucket named otherwise."""
        from botocore.exceptions import ClientError

        name = f"bank-data-{self.account}"
        created = not self._bucket_exists(name)
        if created:
            self._create_bucket(name)
        try:
            self.s3.put_object(Bucket=name, Key="bank/train.csv", Body=b"1,0.5\n")
        except ClientError as exc:
            error = exc.response["Error"]
            return {
                "bucket": name,
                "created_bucket": created,
                "code": error["Code"],
                "message": error["Message"],
            }
        return {
            "bucket": name,
            "created_bucket": created,
            "code": "allowed",
            "message": "not denied (unexpected)",
        }

    def prepare(self) -> dict[str, Any]:
        train, test = split_bank(bank_csv())
        self.train_csv, self.test_csv = self.work / "train.csv", self.work / "test.csv"
        train.to_csv(self.train_csv, index=False, header=False)
        test.to_csv(self.test_csv, index=False, header=False)
        self.test = test
        return {
            "rows": len(train) + len(test),
            "features": train.shape[1] - 1,
            "train": len(train),
            "test": len(test),
        }

    def upload(self) -> dict[str, Any]:
        up = self.sm_session.upload_data
        self.train_uri = up(str(self.train_csv), bucket=self.bucket, key_prefix=f"{PREFIX}/train")
        self.test_uri = up(str(self.test_csv), bucket=self.bucket, key_prefix=f"{PREFIX}/test")
        return {"train": self.train_uri, "test": self.test_uri}

    def train(self) -> dict[str, Any]:
        from sagemaker import image_uris
        from sagemaker.estimator import Estimator
        from sagemaker.inputs import TrainingInput

        image = image_uris.retrieve("xgboost", self.region, "1.7-1")
        self.estimator = Estimator(
            image, self.role, instance_count=1, instance_type=INSTANCE_TYPE,
            output_path=f"s3://{self.bucket}/{PREFIX}/output", sagemaker_session=self.sm_session,
        )  # fmt: skip
        self.estimator.set_hyperparameters(**HYPERPARAMETERS)
        self.estimator.fit({"train": TrainingInput(self.train_uri, content_type="csv")}, logs=False)
        job = self.estimator.latest_training_job.describe()
        metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
        return {
            "job": job["TrainingJobName"], "status": job["TrainingJobStatus"], "image": image,
            "billable_seconds": job.get("BillableTimeInSeconds"), "metrics": metrics,
            "model": job["ModelArtifacts"]["S3ModelArtifacts"], "instance_type": INSTANCE_TYPE,
        }  # fmt: skip

    def deploy(self) -> dict[str, Any]:
        from sagemaker.serializers import CSVSerializer

        self.predictor = self.estimator.deploy(
            initial_instance_count=1, instance_type=INSTANCE_TYPE, serializer=CSVSerializer()
        )
        name = self.predictor.endpoint_name
        status = self.sm_session.sagemaker_client.describe_endpoint(EndpointName=name)["EndpointStatus"]
        return {"endpoint": name, "status": status, "instance_type": INSTANCE_TYPE}

    def evaluate(self) -> dict[str, Any]:
        """Scores for the held-out 30% from the endpoint (the tutorial's batches), then the report."""
        import numpy as np

        from sagelocal.evaluation import evaluate_scores, write_report

        features = self.test.drop(columns=["y_yes"]).to_numpy()
        labels = self.test["y_yes"].to_numpy()
        scores: list[float] = []
        for batch in np.array_split(features, max(1, len(features) // 500)):
            body = self.predictor.predict(batch).decode("utf-8")
            scores.extend(float(x) for x in body.replace("\n", ",").split(",") if x.strip())
        evaluation = evaluate_scores(labels, np.asarray(scores), threshold=0.5)
        report_dir = self.work / "evaluation"
        uri = f"s3://{self.bucket}/{PREFIX}/evaluation"
        files = write_report(evaluation, report_dir, s3_client=self.s3, s3_uri=uri, title="Bank marketing")
        copy = self.out_dir / "evaluation"
        shutil.copytree(report_dir, copy, dirs_exist_ok=True)
        with (copy / "predictions.csv").open("w") as out:
            out.writelines(f"{label:g},{score!r}\n" for label, score in zip(labels, scores, strict=True))
        return {
            "metrics": json.loads(json.dumps(evaluation.to_json(), default=float)),
            "report": str(copy), "instance_report": str(report_dir), "s3": uri,
            "files": [path.name for path in files.paths],
        }  # fmt: skip

    def clean(self) -> dict[str, Any]:
        """What the tutorial deletes from the notebook: endpoint, its configuration, the model, objects."""
        self.predictor.delete_model()  # first: it reads the endpoint configuration to find the model
        self.predictor.delete_endpoint(delete_endpoint_config=True)
        listing = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{PREFIX}/")
        keys = [{"Key": o["Key"]} for page in listing for o in page.get("Contents", [])]
        for start in range(0, len(keys), 1000):
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys[start : start + 1000]})
        return {"deleted": ["endpoint", "endpoint config", "model", f"{len(keys)} objects"]}

    def steps(self) -> list[tuple[str, Callable[[], dict[str, Any]]]]:
        steps = [
            ("session", self.session), ("denied", self.denied), ("prepare", self.prepare),
            ("upload", self.upload), ("train", self.train), ("deploy", self.deploy),
            ("evaluate", self.evaluate),
        ]  # fmt: skip
        return steps if self.keep else [*steps, ("clean", self.clean)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagelocal.demo.inside")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--bucket", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    flow = Workflow(args.out_dir, args.bucket, args.keep)
    for name, step in flow.steps():
        started = time.perf_counter()
        try:
            detail = step()
        except Exception as exc:  # the outer demo shows the failure and the output before it
            emit(name, started, error=f"{type(exc).__name__}: {exc}")
            return 1
        emit(name, started, **detail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
