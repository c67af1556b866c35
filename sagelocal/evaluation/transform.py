"""Scores for a large set through batch transform on an endpoint's model.

The features are uploaded as one CSV under a staging prefix, a transform job runs the endpoint's
(first variant's) model over it, and ``<output>/features.csv.out`` holds one score per line.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np

from .data import S3Uri, csv_body
from .predictions import parse_scores

FEATURES_FILE = "features.csv"
DONE = ("Completed", "Failed", "Stopped")


class TransformFailed(RuntimeError):
    """The transform job ended in Failed or Stopped, or did not finish in time."""


def endpoint_model(sagemaker_client: Any, endpoint_name: str) -> str:
    """The model behind an endpoint: DescribeEndpoint → DescribeEndpointConfig → first variant's model."""
    config = sagemaker_client.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    variants = sagemaker_client.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    for variant in variants:
        if variant.get("ModelName"):
            return str(variant["ModelName"])
    raise ValueError(f"endpoint {endpoint_name}'s configuration {config} names no model")


def wait_for_job(
    sagemaker_client: Any, job_name: str, timeout: float = 3600.0, poll: float = 0.5
) -> dict[str, Any]:
    """DescribeTransformJob until it is done; TransformFailed unless Completed."""
    deadline = time.monotonic() + timeout
    while True:
        desc = sagemaker_client.describe_transform_job(TransformJobName=job_name)
        status = desc["TransformJobStatus"]
        if status == "Completed":
            return dict(desc)
        if status in DONE:
            raise TransformFailed(f"transform job {job_name} {status}: {desc.get('FailureReason', '')}")
        if time.monotonic() > deadline:
            raise TransformFailed(f"transform job {job_name} still {status} after {timeout:.0f}s")
        time.sleep(poll)


def transform_scores(
    sagemaker_client: Any,
    s3_client: Any,
    model_name: str,
    features: np.ndarray,
    staging: str,
    *,
    job_name: str | None = None,
    instance_type: str = "ml.m5.large",
    timeout: float = 3600.0,
) -> np.ndarray:
    """Scores of ``features`` by a transform job of ``model_name``, staged under the ``staging`` S3 prefix."""
    job_name = job_name or f"sagelocal-eval-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    root = S3Uri.parse(staging).join(job_name)
    source = root.join("input").join(FEATURES_FILE)
    output = root.join("output")
    s3_client.put_object(
        Bucket=source.bucket, Key=source.key, Body=csv_body(features), ContentType="text/csv"
    )
    sagemaker_client.create_transform_job(
        TransformJobName=job_name,
        ModelName=model_name,
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=6,
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": str(source)}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": str(output), "Accept": "text/csv", "AssembleWith": "Line"},
        TransformResources={"InstanceType": instance_type, "InstanceCount": 1},
    )
    wait_for_job(sagemaker_client, job_name, timeout)
    result = output.join(FEATURES_FILE + ".out")
    body = s3_client.get_object(Bucket=result.bucket, Key=result.key)["Body"].read()
    return parse_scores(body, len(features))
