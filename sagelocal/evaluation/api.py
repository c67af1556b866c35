"""Evaluations from a prediction source: an endpoint, a model artifact, or batch transform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .metrics import Evaluation, evaluate_scores
from .predictions import artifact_scores, endpoint_scores
from .transform import endpoint_model, transform_scores


def evaluate_endpoint(
    runtime_client: Any,
    endpoint_name: str,
    features: np.ndarray,
    labels: np.ndarray,
    threshold: float = 0.5,
    batch_rows: int = 500,
) -> Evaluation:
    """Evaluate a real-time endpoint: InvokeEndpoint (text/csv) in batches of ``batch_rows`` rows."""
    scores = endpoint_scores(runtime_client, endpoint_name, features, batch_rows)
    return evaluate_scores(labels, scores, threshold, source=f"endpoint {endpoint_name}")


def evaluate_model_artifact(
    model_artifact: str | Path,
    features: np.ndarray,
    labels: np.ndarray,
    threshold: float = 0.5,
    *,
    s3_client: Any = None,
) -> Evaluation:
    """Evaluate a built-in XGBoost ``model.tar.gz`` (local path or ``s3://``), predicting locally."""
    scores = artifact_scores(model_artifact, features, s3_client)
    return evaluate_scores(labels, scores, threshold, source=f"model artifact {model_artifact}")


def evaluate_transform(
    sagemaker_client: Any,
    s3_client: Any,
    endpoint_name: str,
    features: np.ndarray,
    labels: np.ndarray,
    staging: str,
    threshold: float = 0.5,
    **job: Any,
) -> Evaluation:
    """Evaluate an endpoint's model on a large set with a batch transform job staged under ``staging``
    (an S3 prefix); ``job`` goes to :func:`transform_scores` (``job_name``, ``instance_type``, ``timeout``)."""
    model = endpoint_model(sagemaker_client, endpoint_name)
    scores = transform_scores(sagemaker_client, s3_client, model, features, staging, **job)
    return evaluate_scores(
        labels, scores, threshold, source=f"batch transform of endpoint {endpoint_name}'s model {model}"
    )
