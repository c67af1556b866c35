"""Real-time inference: a sagelocal endpoint vs. ``Booster.predict`` in-process vs. ``mlflow models serve``.

One run, one machine. A booster is trained on the bank-marketing training split with the tutorial's
parameters and served three ways on the same held-out rows (1 row and 500 rows of CSV):

- **in-process**: ``Booster.predict(DMatrix(rows))`` in this process, the physical limit;
- **sagelocal**: an endpoint (built-in XGBoost 1.7-1 image, one replica) on a sagelocal server, called
  (a) through boto3's ``invoke_endpoint`` and (b) through a raw keep-alive HTTP client posting a request
  SigV4-signed once with botocore (the server verifies the signature on every call);
- **MLflow**: the same booster wrapped with ``mlflow.xgboost.save_model`` and served by
  ``mlflow models serve`` (its own venv, bench/.venv-mlflow; its CLI defaults: one uvicorn worker), with
  the request format cheapest for MLflow at each size (bench/peers/mlflow_model.py explains the choice).

Latency: p50/p99 of sequential calls at concurrency 1, the contenders interleaved in 10 rounds. Throughput: calls/s with 16 client threads, each
with its own keep-alive connection. Client and servers share the 2 cores. Also timed: CreateEndpoint until
DescribeEndpoint says InService (polled every 20 ms), over several endpoints.

Targets (issue 5): platform overhead over in-process predict under 1 ms at p50 for 1 row (raw HTTP);
throughput at concurrency 16 at least 2x MLflow's; CreateEndpoint -> InService under 2 s.

    .venv/bin/python bench/inference.py [--calls 2000] [--concurrency 16] [--deploys 5]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import xgboost as xgb
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "peers"), str(HERE.parent)]
from loadgen import http_caller, interleaved_latency, measure_throughput  # noqa: E402
from mlflow_model import (  # noqa: E402
    best_format,
    ensure_mlflow_venv,
    invocation_body,
    mlflow_server,
    parse_predictions,
    save_mlflow_model,
)

from sagelocal.launcher import ServerProcess, free_port  # noqa: E402

REGION = "ap-northeast-1"
IMAGE = f"354813040037.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1"
BANK_CSV = HERE.parent / "sagelocal" / "data" / "bank-marketing" / "bank-additional.csv"
PARAMS = {"max_depth": 5, "eta": 0.2, "gamma": 4, "min_child_weight": 6, "subsample": 0.8}
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


def bank_split() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tutorial's preparation: one-hot, label first, shuffled (seed 1729), 70/30."""
    import pandas as pd

    frame = pd.get_dummies(pd.read_csv(BANK_CSV, sep=";"))
    frame = pd.concat([frame["y_yes"], frame.drop(["y_no", "y_yes"], axis=1)], axis=1).astype(float)
    data = frame.sample(frac=1, random_state=1729).to_numpy()
    cut = int(0.7 * len(data))
    return data[:cut, 1:], data[:cut, 0], data[cut:, 1:]


def csv_body(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()


def model_tarball(booster: xgb.Booster) -> bytes:
    raw = bytes(booster.save_raw(raw_format="json"))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return out.getvalue()


def checker(expected: np.ndarray, parse: Callable[[bytes], list[float]]) -> Callable[[bytes], None]:
    def check(body: bytes) -> None:
        got = np.array(parse(body), dtype=np.float32)
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-6):
            raise RuntimeError(f"wrong predictions: {got[:3]} vs {expected[:3]}")

    return check


def csv_scores(body: bytes) -> list[float]:
    return [float(x) for x in body.split()]


def signed_headers(server: ServerProcess, path: str, body: bytes) -> dict[str, str]:
    """Headers of one InvokeEndpoint request signed with SigV4 (valid for the 15-minute skew window)."""
    creds = boto3.Session(**server.credentials()).get_credentials()
    request = AWSRequest("POST", server.endpoint_url + path, data=body, headers={"Content-Type": "text/csv"})
    SigV4Auth(creds, "sagemaker", REGION).add_auth(request)
    return dict(request.headers.items())


def deploy(sm: Any, role: str, url: str, name: str) -> float:
    """Create model, config and endpoint; the seconds from CreateEndpoint to InService."""
    sm.create_model(
        ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url}
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": name,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    started = time.perf_counter()
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    while (status := sm.describe_endpoint(EndpointName=name)["EndpointStatus"]) != "InService":
        if status == "Failed":
            raise RuntimeError(sm.describe_endpoint(EndpointName=name)["FailureReason"])
        time.sleep(0.02)
    return time.perf_counter() - started


def row(label: str, stats: dict[str, float], base: dict[str, float] | None = None) -> str:
    added = f"{stats['p50'] - base['p50']:+.3f}" if base else "—"
    rps = f"{stats['rps']:.0f}" if "rps" in stats else "—"
    return f"| {label} | {stats['p50']:.3f} | {stats['p99']:.3f} | {added} | {rps} |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--deploys", type=int, default=5)
    args = parser.parse_args()

    x_train, y_train, x_test = bank_split()
    booster = xgb.train(
        PARAMS | {"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(x_train, label=y_train), 100
    )
    payloads = {"1 row": x_test[:1], "500 rows": x_test[:500]}
    tmp = Path(tempfile.mkdtemp(prefix="sagelocal-bench-inference-"))
    lines: list[str] = []

    with (tmp / "server.log").open("w") as log, ServerProcess(tmp / "home", log=log) as server:
        session = boto3.Session(region_name=REGION, **server.credentials())
        cfg = Config(retries={"max_attempts": 0}, max_pool_connections=args.concurrency * 2)
        sm = session.client("sagemaker", endpoint_url=server.endpoint_url, config=cfg)
        runtime = session.client("sagemaker-runtime", endpoint_url=server.endpoint_url, config=cfg)
        s3 = session.client("s3", endpoint_url=server.endpoint_url)
        iam = session.client("iam", endpoint_url=server.endpoint_url)
        role = iam.create_role(RoleName="BenchRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        # IAM is enforced: the role reads the model from a *sagemaker* bucket.
        iam.attach_role_policy(
            RoleName="BenchRole", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
        )
        s3.create_bucket(Bucket="sagemaker-bench", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="sagemaker-bench", Key="model/model.tar.gz", Body=model_tarball(booster))
        url = "s3://sagemaker-bench/model/model.tar.gz"

        times = [deploy(sm, role, url, f"bench-ep-{i}") for i in range(args.deploys)]
        for i in range(1, args.deploys):
            sm.delete_endpoint(EndpointName=f"bench-ep-{i}")
        endpoint = "bench-ep-0"
        path = f"/endpoints/{endpoint}/invocations"

        booster.save_model(tmp / "booster.json")
        ensure_mlflow_venv()
        mlflow_dir = save_mlflow_model(tmp / "booster.json", tmp / "mlflow-model")
        with mlflow_server(mlflow_dir, free_port()) as mlflow_url:
            for label, rows in payloads.items():
                expected = booster.predict(xgb.DMatrix(rows))
                body = csv_body(rows)
                matrix = np.ascontiguousarray(rows)

                def inproc(m: np.ndarray = matrix) -> None:
                    booster.predict(xgb.DMatrix(m))

                check_csv = checker(expected, csv_scores)
                raw = http_caller(
                    server.endpoint_url, path, body, signed_headers(server, path, body), check=check_csv
                )

                def via_boto3(b: bytes = body, c: Callable[[bytes], None] = check_csv) -> None:
                    c(
                        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b)[
                            "Body"
                        ].read()
                    )

                fmt = best_format(len(rows))
                ctype, mbody = invocation_body(rows.tolist(), fmt)
                mlflow = http_caller(
                    mlflow_url,
                    "/invocations",
                    mbody,
                    {"Content-Type": ctype},
                    check=checker(expected, parse_predictions),
                )
                contenders = {
                    "in-process Booster.predict": inproc,
                    "sagelocal raw HTTP": raw,
                    "sagelocal boto3": via_boto3,
                    f"MLflow ({fmt})": mlflow,
                }
                latency = interleaved_latency(contenders, args.calls)
                inproc_stats = latency.pop("in-process Booster.predict")
                results = {
                    name: (latency[name], measure_throughput(contenders[name], args.calls, args.concurrency))
                    for name in latency
                }
                lines.append(f"\n### {label} (c=1 latency in ms; throughput at c={args.concurrency})\n")
                lines.append("| contender | p50 ms | p99 ms | added at p50 | calls/s |")
                lines.append("|---|---:|---:|---:|---:|")
                lines.append(row("in-process Booster.predict", inproc_stats))
                for name, (lat, thr) in results.items():
                    lines.append(row(name, lat | {"rps": thr["rps"]}, inproc_stats))
                ratio = results["sagelocal raw HTTP"][1]["rps"] / results[f"MLflow ({fmt})"][1]["rps"]
                ratio_boto = results["sagelocal boto3"][1]["rps"] / results[f"MLflow ({fmt})"][1]["rps"]
                lines.append(
                    f"\nThroughput vs MLflow at c={args.concurrency}: raw HTTP {ratio:.2f}x, boto3 {ratio_boto:.2f}x."
                )
        sm.delete_endpoint(EndpointName=endpoint)

    print("\n## CreateEndpoint -> InService\n")
    print(f"{args.deploys} endpoints: median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
