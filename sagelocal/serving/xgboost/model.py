"""Loading the model directory and predicting, as the container's ``get_loaded_booster``/``predict`` do.

Every non-dot file in the model directory is a model, read with ``pickle`` first and ``Booster.load_model``
second.  With ``SAGEMAKER_INFERENCE_ENSEMBLE`` (default true) all are loaded and their predictions averaged, or
majority-voted for ``multi:softmax``/``binary:hinge``; otherwise the first in ``os.listdir`` order is used.
Each booster predicts with ``nthread=1``.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from sagelocal.algorithms.xgboost.data import CSV, LIBSVM

from .capi import DensePredictor, dense_predictor

log = logging.getLogger("sagelocal.serving")

VOTING_OBJECTIVES = ("multi:softmax", "binary:hinge")


def model_files(model_dir: Path) -> list[Path]:
    """The model files: every regular, non-dot file directly in ``model_dir`` (``os.listdir`` order)."""
    files = [model_dir / n for n in os.listdir(model_dir) if not n.startswith(".")]
    return [f for f in files if f.is_file()]


def load_booster(path: Path) -> tuple[xgb.Booster, bool]:
    """(booster, was_pickled) of one file; RuntimeError with both reasons when neither reader works."""
    log.info("Loading the model from %s", path)
    try:
        with open(path, "rb") as f:
            booster = pickle.load(f)
        pickled = True
    except Exception as exc_pkl:
        try:
            booster = xgb.Booster()
            with warnings.catch_warnings():  # "Unknown file format: ``. Using UBJSON as a guess": as meant
                warnings.filterwarnings("ignore", message=".*Unknown file format", category=UserWarning)
                booster.load_model(str(path))
            pickled = False
        except Exception as exc_xgb:
            raise RuntimeError(f"Model at {path} cannot be loaded:\n{exc_pkl}\n{exc_xgb}") from None
    if not isinstance(booster, xgb.Booster) and hasattr(booster, "get_booster"):
        booster = booster.get_booster()  # a pickled scikit-learn wrapper (XGBClassifier, ...)
    booster.set_param("nthread", 1)
    return booster, pickled


@dataclass
class Model:
    """The loaded boosters and what serving needs to know about them."""

    boosters: list[xgb.Booster]
    pickled: bool
    objective: str
    num_class: str
    num_features: int
    fast: list[DensePredictor | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.fast:
            self.fast = [dense_predictor(b) for b in self.boosters]

    def _dense(self, index: int, data: np.ndarray) -> np.ndarray:
        fast = self.fast[index]
        out = fast(data) if fast is not None else None
        if out is None:  # no C entry point, or an error: the wrapper raises XGBoost's own message
            out = self.boosters[index].inplace_predict(data, validate_features=False)
        return out

    def predict(self, data: Any, fmt: str) -> np.ndarray:
        """Predictions for a dense float matrix or CSR matrix; raises on a payload the model cannot take."""
        if self.pickled:
            self._check_pickled_features(data.shape[1], fmt)
        dense = isinstance(data, np.ndarray)
        if dense and data.shape[1] < self.num_features:  # fewer columns: missing, as DMatrix pads them
            pad = np.full((data.shape[0], self.num_features - data.shape[1]), np.nan)
            data = np.hstack([data, pad])
        if dense and data.shape[1] == self.num_features:
            data = np.ascontiguousarray(data, dtype=np.float64)
            preds = [self._dense(i, data) for i in range(len(self.boosters))]
        else:  # sparse, or too many columns: DMatrix gives XGBoost's own error for the latter
            matrix = xgb.DMatrix(data, nthread=1)
            preds = [b.predict(matrix, validate_features=False) for b in self.boosters]
        if len(preds) == 1:
            return preds[0]
        if self.objective in VOTING_OBJECTIVES:
            return _majority(np.stack(preds))
        return np.mean(preds, axis=0)

    def _check_pickled_features(self, columns: int, fmt: str) -> None:
        """Models pickled by images before 1.3-1: the container's explicit feature-count check."""
        expected = self.num_features
        if fmt == LIBSVM:
            if columns > expected + 1:
                raise ValueError(
                    f"Feature size of libsvm inference data {columns} is larger than "
                    f"feature size of trained model {expected}."
                )
        elif columns not in (expected, expected - 1):
            kind = CSV if fmt == CSV else "recordio-protobuf"
            raise ValueError(
                f"Feature size of {kind} inference data {columns} is not consistent "
                f"with feature size of trained model {expected}."
            )


def _majority(stacked: np.ndarray) -> np.ndarray:
    """The most common prediction per row across the ensemble (ties: the smallest value)."""
    out = np.empty(stacked.shape[1:], dtype=stacked.dtype)
    for i in range(stacked.shape[1]):
        values, counts = np.unique(stacked[:, i], return_counts=True)
        out[i] = values[np.argmax(counts)]
    return out


def load_model(model_dir: Path, ensemble: bool = True) -> Model:
    """Load the model directory; raises with the reason it cannot be served."""
    files = model_files(model_dir)
    if not files:
        raise RuntimeError(f"No model file found in {model_dir}")
    if not ensemble:
        files = files[:1]
    loaded = [load_booster(f) for f in files]
    boosters = [b for b, _ in loaded]
    learner = json.loads(boosters[0].save_config())["learner"]
    return Model(
        boosters=boosters,
        pickled=loaded[0][1],
        objective=learner["objective"]["name"],
        num_class=str(learner["learner_model_param"].get("num_class", "")),
        num_features=boosters[0].num_features(),
    )
