"""Scores for feature rows: from a real-time endpoint (InvokeEndpoint, text/csv) or from a
``model.tar.gz`` of the built-in XGBoost algorithm, predicted locally with the serving code's loader."""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .data import csv_body, read_bytes


def parse_scores(body: bytes | str, rows: int) -> np.ndarray:
    """One score per row from a text/csv answer.

    Accepts one value per line (the algorithm container), all values on one comma-separated line
    (the legacy ``xgboost:1`` image in real time) and two-column lines (the positive class's
    probability is the second).  ValueError when the answer does not have ``rows`` scores.
    """
    text = body.decode() if isinstance(body, bytes) else body
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) == 1 and rows != 1:
        cells = [lines[0].split(",")]
        column = None  # every value of the one line
    else:
        cells = [line.split(",") for line in lines]
        widths = {len(c) for c in cells}
        if not widths <= {1} and widths != {2}:
            raise ValueError(f"{max(widths)} scores per row: not a binary classifier's answer")
        column = 1 if widths == {2} else 0
    try:
        values = cells[0] if column is None else [c[column] for c in cells]
        scores = np.asarray([float(v) for v in values], dtype=float)
    except (ValueError, IndexError):
        raise ValueError(f"the answer is not CSV numbers: {text[:200]!r}") from None
    if len(scores) != rows:
        raise ValueError(f"expected {rows} scores, the answer has {len(scores)}")
    return scores


def endpoint_scores(
    runtime_client: Any, endpoint_name: str, features: np.ndarray, batch_rows: int = 500
) -> np.ndarray:
    """Scores from ``InvokeEndpoint`` in text/csv batches of at most ``batch_rows`` rows."""
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    features = np.asarray(features, dtype=float)
    if features.ndim != 2:
        raise ValueError("features must be a 2-D array (rows, columns)")
    out: list[np.ndarray] = []
    for start in range(0, len(features), batch_rows):
        chunk = features[start : start + batch_rows]
        reply = runtime_client.invoke_endpoint(
            EndpointName=endpoint_name, ContentType="text/csv", Accept="text/csv", Body=csv_body(chunk)
        )
        out.append(parse_scores(reply["Body"].read(), len(chunk)))
    return np.concatenate(out) if out else np.array([])


def _extract(archive: bytes, target: Path) -> None:
    """Unpack a model.tar.gz; members that would land outside ``target`` are refused."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
        tar.extractall(target, filter="data")


def artifact_scores(model_artifact: str | Path, features: np.ndarray, s3_client: Any = None) -> np.ndarray:
    """Scores of a built-in XGBoost ``model.tar.gz`` (local path or ``s3://``), predicted here.

    The archive is loaded as an endpoint replica loads it (every model file, ensembles averaged),
    so the scores equal the endpoint's for the same model.
    """
    from sagelocal.algorithms.xgboost.data import CSV
    from sagelocal.serving.xgboost.model import load_model

    archive = read_bytes(model_artifact, s3_client)
    with tempfile.TemporaryDirectory(prefix="sagelocal-eval-model-") as tmp:
        model_dir = Path(tmp)
        try:
            _extract(archive, model_dir)
        except tarfile.TarError as exc:
            raise ValueError(f"{model_artifact} is not a model.tar.gz: {exc}") from None
        model = load_model(model_dir)
    if model.objective.startswith("multi:"):
        raise ValueError(f"the model's objective is {model.objective}: not a binary classifier")
    scores = model.predict(np.asarray(features, dtype=float), CSV)
    return np.asarray(scores, dtype=float).ravel()
