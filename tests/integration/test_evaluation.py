"""`sagelocal evaluate` as a real subprocess against a real server: an endpoint scored through
InvokeEndpoint, the same model through batch transform and as a model artifact; the report's files
on disk and in S3, the AUC and confusion matrix against scikit-learn on the booster's own
predictions, and report.html opened in Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from sklearn import metrics as skm

from tests.conftest import AwsClients
from tests.integration.browser_support import chromium
from tests.integration.hosting_support import csv_rows, deploy, make_role, train_booster, unique, upload_model

REPORT_FILES = ("metrics.json", "roc.png", "pr.png", "report.html")
WAIT = {"Delay": 0.5, "MaxAttempts": 120}
THRESHOLD = 0.4


@pytest.fixture(scope="module")
def world(aws: AwsClients, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A small booster behind one endpoint, and 200 labelled rows (label first) in S3 and on disk."""
    s3, sm = aws.client("s3"), aws.client("sagemaker")
    booster, _ = train_booster(seed=4)
    rng = np.random.default_rng(8)
    x = rng.normal(size=(200, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.6, size=200) > 0).astype(np.float32)
    bucket = unique("sagemaker-eval")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.server.region})
    model_url = upload_model(s3, bucket, booster)
    endpoint = deploy(sm, make_role(aws), model_url, unique("eval-ep"))
    labelled = csv_rows(np.column_stack([y, x]))
    s3.put_object(Bucket=bucket, Key="data/test.csv", Body=labelled)
    root = tmp_path_factory.mktemp("evaluation")
    (root / "test.csv").write_bytes(labelled)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig=WAIT)
    yield {
        "bucket": bucket,
        "endpoint": endpoint,
        "model_url": model_url,
        "root": root,
        "labels": y,
        "scores": booster.predict(xgb.DMatrix(x)),  # the booster's own predictions
    }
    sm.delete_endpoint(EndpointName=endpoint)


@dataclass
class Run:
    """One `sagelocal evaluate` run: its report directory and what it printed."""

    out: Path
    returncode: int
    stdout: str
    stderr: str

    def check(self) -> Run:
        assert self.returncode == 0, (
            f"sagelocal evaluate failed ({self.returncode}):\n{self.stdout}\n{self.stderr}"
        )
        return self

    def metrics(self) -> dict[str, Any]:
        return dict(json.loads((self.out / "metrics.json").read_text()))


@pytest.fixture(scope="module")
def runs(aws: AwsClients, world: dict[str, Any]) -> dict[str, Run]:
    """`python -m sagelocal evaluate` three ways, as concurrent subprocesses (most of each run is
    importing scikit-learn and matplotlib): the endpoint on the S3 data with the report uploaded,
    the endpoint's model through a forced batch transform, and the model artifact on the local file."""
    root, bucket = world["root"], world["bucket"]
    local, remote = str(root / "test.csv"), f"s3://{bucket}/data/test.csv"
    argv = {
        "endpoint": ["--endpoint", world["endpoint"], "--data", remote, "--batch-rows", "64"],
        "transform": ["--endpoint", world["endpoint"], "--data", local, "--batch-transform"],
        "artifact": ["--model-artifact", world["model_url"], "--data", local],
    }
    argv["endpoint"] += ["--s3-output", f"s3://{bucket}/reports/endpoint"]
    argv["transform"] += ["--s3-output", f"s3://{bucket}/reports/transform"]
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "sagelocal", "evaluate", "--threshold", str(THRESHOLD), *args],
            env=aws.env | {"COLUMNS": "120"},
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, args in ((n, [*a, "--output", n]) for n, a in argv.items())
    }
    results = {}
    for name, proc in procs.items():
        try:
            stdout, stderr = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        results[name] = Run(root / name, proc.returncode, stdout, stderr)
    return results


def check_metrics(doc: dict[str, Any], world: dict[str, Any]) -> None:
    """metrics.json agrees with scikit-learn on the booster's own predictions."""
    labels, scores = world["labels"], world["scores"]
    predicted = (scores >= THRESHOLD).astype(int)
    assert doc["n"] == 200 and doc["threshold"] == THRESHOLD
    assert doc["roc_auc"] == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-9)
    assert doc["roc_auc"] > 0.8
    assert doc["accuracy"] == pytest.approx(skm.accuracy_score(labels, predicted), abs=1e-12)
    assert doc["log_loss"] == pytest.approx(skm.log_loss(labels, scores), rel=1e-6)
    assert doc["confusion_matrix"]["matrix"] == skm.confusion_matrix(labels, predicted).tolist()


def test_endpoint_report_on_disk_and_in_s3(
    aws: AwsClients, world: dict[str, Any], runs: dict[str, Run]
) -> None:
    run = runs["endpoint"].check()
    assert all((run.out / name).stat().st_size > 0 for name in REPORT_FILES)
    doc = run.metrics()
    check_metrics(doc, world)
    assert doc["source"] == f"endpoint {world['endpoint']}"
    printed = run.stdout
    assert (
        "Accuracy" in printed and f"{doc['accuracy']:.4f}" in printed and f"{doc['roc_auc']:.4f}" in printed
    )
    assert str(run.out) in printed and f"s3://{world['bucket']}/reports/endpoint/" in printed
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=world["bucket"], Prefix="reports/endpoint/")["Contents"]
    assert sorted(o["Key"].rsplit("/", 1)[1] for o in listed) == sorted(REPORT_FILES)
    for name in REPORT_FILES:
        got = s3.get_object(Bucket=world["bucket"], Key=f"reports/endpoint/{name}")
        assert got["Body"].read() == (run.out / name).read_bytes()
    assert got["ContentType"].startswith("text/html")


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("source", "created")}


def test_batch_transform_scores_like_the_endpoint(
    aws: AwsClients, world: dict[str, Any], runs: dict[str, Run]
) -> None:
    doc = runs["transform"].check().metrics()
    check_metrics(doc, world)
    assert _comparable(doc) == _comparable(runs["endpoint"].check().metrics())
    assert doc["source"].startswith(f"batch transform of endpoint {world['endpoint']}'s model")
    staged = aws.client("s3").list_objects_v2(Bucket=world["bucket"], Prefix="reports/transform/")["Contents"]
    keys = {o["Key"] for o in staged}
    assert {f"reports/transform/{name}" for name in REPORT_FILES} <= keys
    (job,) = {k.split("/")[3] for k in keys if k.startswith("reports/transform/batch-transform/")}
    assert f"reports/transform/batch-transform/{job}/input/features.csv" in keys
    assert f"reports/transform/batch-transform/{job}/output/features.csv.out" in keys
    desc = aws.client("sagemaker").describe_transform_job(TransformJobName=job)
    assert desc["TransformJobStatus"] == "Completed" and job.startswith("sagelocal-eval-")
    assert desc["ModelName"] == world["endpoint"]  # deploy() names the model after the endpoint


def test_model_artifact_scores_like_the_endpoint(world: dict[str, Any], runs: dict[str, Run]) -> None:
    doc = runs["artifact"].check().metrics()
    check_metrics(doc, world)
    assert _comparable(doc) == _comparable(runs["endpoint"].check().metrics())
    assert doc["source"] == f"model artifact {world['model_url']}"


def test_report_html_opens_in_chromium(runs: dict[str, Run]) -> None:
    page_file = runs["endpoint"].check().out / "report.html"
    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_file.resolve().as_uri(), wait_until="load")
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        cells = page.locator("#confusion-matrix td").all_inner_texts()
        title = page.title()
    assert errors == []
    assert widths == [600, 600]
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert title == "Model evaluation" and len(cells) == 9
