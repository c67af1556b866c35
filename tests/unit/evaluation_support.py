"""Support for the evaluation tests: synthetic labelled scores, a small real booster and its
model.tar.gz, and a runtime client whose InvokeEndpoint answers with the real container handler."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from sagelocal.serving.config import ServingConfig
from sagelocal.serving.xgboost.handler import XGBoostHandler


def synthetic(n: int = 2000, seed: int = 0, separation: float = 1.2) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores): scores in (0, 1), informative but imperfect (AUC around 0.8)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.35).astype(int)
    margin = rng.normal(size=n) + separation * labels - 0.5
    return labels, 1 / (1 + np.exp(-margin))


def labelled_rows(n: int = 300, features: int = 5, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) where the label depends on the first two features plus noise."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(n, features)), 5)
    y = (x[:, 0] - 0.7 * x[:, 1] + rng.normal(scale=0.6, size=n) > 0).astype(float)
    return x, y


def booster_for(x: np.ndarray, y: np.ndarray, rounds: int = 15) -> xgb.Booster:
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1}
    return xgb.train(params, xgb.DMatrix(x, label=y), rounds)


def model_tar(booster: xgb.Booster, target: Path) -> Path:
    """model.tar.gz holding ``xgboost-model`` (UBJSON ``save_model``, as images from 1.3-1 write it)."""
    raw = bytes(booster.save_raw(raw_format="ubj"))
    with tarfile.open(target, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return target


class ContainerRuntime:
    """A sagemaker-runtime stand-in: each InvokeEndpoint is answered by the real container handler
    over ``model_dir`` (no HTTP), recording the number of rows of each request."""

    def __init__(self, model_dir: Path, version: str = "1.7-1") -> None:
        self.handler = XGBoostHandler(model_dir, ServingConfig(version=version))
        self.requests: list[int] = []

    def invoke_endpoint(
        self, *, EndpointName: str, ContentType: str, Body: bytes, **_: Any
    ) -> dict[str, Any]:
        self.requests.append(Body.decode().strip().count("\n") + 1)
        reply = self.handler.invoke(Body, ContentType, "text/csv")
        assert reply.status == 200, reply.body
        return {"Body": io.BytesIO(reply.body), "ContentType": reply.content_type}
