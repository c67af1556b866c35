"""Script-mode models on endpoints, through the real server with boto3: a scikit-learn model whose
inference module (model_fn/input_fn/predict_fn/output_fn) comes from a sourcedir.tar.gz in S3
(`SAGEMAKER_SUBMIT_DIRECTORY`), and the same module repacked inside model.tar.gz under `code/`
(`/opt/ml/model/code`, as the SDK repacks an entry point)."""

from __future__ import annotations

import io
import pickle
import tarfile
from typing import Any

import numpy as np
import pytest

from tests.conftest import AwsClients
from tests.integration.hosting_support import csv_rows, make_role, unique

SKLEARN_IMAGE = "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
INFERENCE = """
import os, pickle
import numpy as np

def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
        return pickle.load(f)

def input_fn(body, content_type):
    assert content_type == "text/csv", content_type
    text = body.decode() if isinstance(body, bytes) else body
    return np.array([[float(v) for v in line.split(",")] for line in text.strip().splitlines()])

def predict_fn(data, model):
    return model.predict_proba(data)[:, 1]

def output_fn(prediction, accept):
    return "\\n".join(repr(float(p)) for p in prediction), "text/csv"
"""
FAST = {"Delay": 1, "MaxAttempts": 120}


def _tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.fixture(scope="module")
def world(aws: AwsClients) -> dict[str, Any]:
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] - x[:, 2] > 0).astype(int)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
    s3 = aws.client("s3")
    bucket = unique("sagemaker-script-ep")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.server.region})
    pickled = pickle.dumps(model)
    s3.put_object(Bucket=bucket, Key="plain/model.tar.gz", Body=_tarball({"model.pkl": pickled}))
    s3.put_object(
        Bucket=bucket, Key="code/sourcedir.tar.gz", Body=_tarball({"inference.py": INFERENCE.encode()})
    )
    repacked = _tarball({"model.pkl": pickled, "code/inference.py": INFERENCE.encode()})
    s3.put_object(Bucket=bucket, Key="repacked/model.tar.gz", Body=repacked)
    return {
        "bucket": bucket,
        "model": model,
        "rows": rng.normal(size=(6, 4)),
        "role": make_role(aws),
    }


@pytest.mark.parametrize(
    ("layout", "submit"),
    [("plain", "s3://{bucket}/code/sourcedir.tar.gz"), ("repacked", "/opt/ml/model/code")],
)
def test_script_mode_model_serves_user_functions(
    aws: AwsClients, world: dict[str, Any], layout: str, submit: str
) -> None:
    sm, runtime = aws.client("sagemaker"), aws.client("sagemaker-runtime")
    name = unique(f"script-{layout}")
    container = {
        "Image": SKLEARN_IMAGE,
        "ModelDataUrl": f"s3://{world['bucket']}/{layout}/model.tar.gz",
        "Environment": {
            "SAGEMAKER_PROGRAM": "inference.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": submit.format(bucket=world["bucket"]),
        },
    }
    sm.create_model(ModelName=name, ExecutionRoleArn=world["role"], PrimaryContainer=container)
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": name,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    response = runtime.invoke_endpoint(
        EndpointName=name, ContentType="text/csv", Body=csv_rows(world["rows"])
    )
    assert response["ContentType"].startswith("text/csv")
    scores = [float(v) for v in response["Body"].read().decode().split()]
    np.testing.assert_allclose(scores, world["model"].predict_proba(world["rows"])[:, 1])
    sm.delete_endpoint(EndpointName=name)
    sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig=FAST)


def test_sklearn_image_without_program_fails_the_endpoint(aws: AwsClients, world: dict[str, Any]) -> None:
    sm = aws.client("sagemaker")
    name = unique("script-noprogram")
    container = {"Image": SKLEARN_IMAGE, "ModelDataUrl": f"s3://{world['bucket']}/plain/model.tar.gz"}
    sm.create_model(ModelName=name, ExecutionRoleArn=world["role"], PrimaryContainer=container)
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": name,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    with pytest.raises(Exception, match="Failed"):
        sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    reason = sm.describe_endpoint(EndpointName=name)["FailureReason"]
    assert "scikit-learn framework image" in reason and "SAGEMAKER_PROGRAM" in reason
