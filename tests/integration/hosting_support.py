"""Shared by the hosting tests: a role SageMaker may assume, a real XGBoost model.tar.gz in S3,
and waiting for an endpoint's status."""

from __future__ import annotations

import io
import tarfile
import time
import uuid
from typing import Any

import numpy as np
import xgboost as xgb

from tests.conftest import AwsClients
from tests.integration.role_support import sagemaker_role

IMAGE = "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-xgboost:1.7-1"
LEGACY_IMAGE = "501404015308.dkr.ecr.ap-northeast-1.amazonaws.com/xgboost:1"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_role(aws: AwsClients) -> str:
    """A SageMaker execution role with the policies the hosting tests need (role_support)."""
    account = aws.client("sts").get_caller_identity()["Account"]
    return sagemaker_role(aws.client("iam"), account, unique("SageMakerRole"))


def train_booster(features: int = 6, seed: int = 0, rows: int = 400) -> tuple[xgb.Booster, np.ndarray]:
    """A small binary:logistic booster and held-out rows to predict."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.3, size=rows) > 0).astype(np.float32)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1},
        xgb.DMatrix(x[:300], label=y[:300]),
        num_boost_round=20,
    )
    return booster, x[300:]


def model_tarball(booster: xgb.Booster) -> bytes:
    """model.tar.gz holding `xgboost-model`, as the built-in algorithm writes it."""
    raw = booster.save_raw(raw_format="json")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(bytes(raw)))
    return out.getvalue()


def upload_model(s3: Any, bucket: str, booster: xgb.Booster, key: str | None = None) -> str:
    key = key or f"{unique('model')}/output/model.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=model_tarball(booster))
    return f"s3://{bucket}/{key}"


def csv_rows(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()


def wait_status(sm: Any, name: str, wanted: tuple[str, ...], timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_endpoint(EndpointName=name)
        if desc["EndpointStatus"] in wanted or time.monotonic() > deadline:
            return dict(desc)
        time.sleep(0.1)


def deploy(sm: Any, role: str, model_url: str, name: str, image: str = IMAGE, **variant: Any) -> str:
    """Model, config and endpoint named `name` (one AllTraffic variant); returns the endpoint name."""
    sm.create_model(
        ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": image, "ModelDataUrl": model_url}
    )
    spec = {
        "VariantName": "AllTraffic",
        "ModelName": name,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[spec | variant])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return name
