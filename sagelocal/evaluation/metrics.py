"""Binary-classification metrics of scores against labels, all computed by scikit-learn.

A row is predicted positive when its score is at least the threshold.  Metrics that are undefined
for the data (AUC with a single class, log loss of scores outside [0, 1]) are ``None``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn import metrics as skm

MAX_CURVE_POINTS = 1000  # per curve in metrics.json; the plots use every point


@dataclass
class Evaluation:
    """One evaluation: the metrics at ``threshold`` and the threshold-free curves."""

    threshold: float
    n: int
    positives: int
    tn: int
    fp: int
    fn: int
    tp: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    log_loss: float | None
    roc_auc: float | None
    average_precision: float | None
    roc_fpr: np.ndarray
    roc_tpr: np.ndarray
    roc_thresholds: np.ndarray
    pr_precision: np.ndarray
    pr_recall: np.ndarray
    labels: np.ndarray = field(repr=False)
    scores: np.ndarray = field(repr=False)
    source: str = ""
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def negatives(self) -> int:
        return self.n - self.positives

    @property
    def confusion_matrix(self) -> np.ndarray:
        """``[[tn, fp], [fn, tp]]``, as ``sklearn.metrics.confusion_matrix`` lays it out."""
        return np.array([[self.tn, self.fp], [self.fn, self.tp]])

    @property
    def predictions(self) -> np.ndarray:
        """The predicted classes (0/1) at the threshold."""
        return (self.scores >= self.threshold).astype(int)

    def to_json(self, max_points: int = MAX_CURVE_POINTS) -> dict[str, Any]:
        """metrics.json's content; curves longer than ``max_points`` are evenly downsampled."""
        roc_idx = _keep(len(self.roc_fpr), max_points)
        pr_idx = _keep(len(self.pr_recall), max_points)
        return {
            "source": self.source,
            "created": self.created,
            "threshold": self.threshold,
            "n": self.n,
            "positives": self.positives,
            "negatives": self.negatives,
            "confusion_matrix": {
                "tn": self.tn,
                "fp": self.fp,
                "fn": self.fn,
                "tp": self.tp,
                "matrix": self.confusion_matrix.tolist(),
            },
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "log_loss": self.log_loss,
            "roc_auc": self.roc_auc,
            "average_precision": self.average_precision,
            "roc_curve": {
                "points": len(self.roc_fpr),
                "fpr": _floats(self.roc_fpr[roc_idx]),
                "tpr": _floats(self.roc_tpr[roc_idx]),
                "thresholds": _floats(self.roc_thresholds[roc_idx]),
            },
            "pr_curve": {
                "points": len(self.pr_recall),
                "precision": _floats(self.pr_precision[pr_idx]),
                "recall": _floats(self.pr_recall[pr_idx]),
            },
        }


def _keep(length: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spread points, first and last included."""
    if length <= max_points:
        return np.arange(length)
    return np.unique(np.linspace(0, length - 1, max_points).round().astype(int))


def _floats(values: np.ndarray) -> list[float | None]:
    """JSON-safe floats: infinities and NaN (sklearn's first ROC threshold is inf) become null."""
    return [float(v) if math.isfinite(v) else None for v in values.tolist()]


def binary_labels(labels: Sequence[float] | np.ndarray) -> np.ndarray:
    """Labels as a 0/1 int array; ValueError for anything but 0, 1 (or booleans)."""
    y = np.asarray(labels, dtype=float).ravel()
    if np.isnan(y).any():
        raise ValueError("the labels contain missing values")
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        found = ", ".join(f"{v:g}" for v in np.unique(y[bad])[:5])
        raise ValueError(f"labels must be 0 or 1 for a binary evaluation; found {found}")
    return y.astype(int)


def evaluate_scores(
    labels: Sequence[float] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    threshold: float = 0.5,
    *,
    source: str = "",
) -> Evaluation:
    """Every metric of ``scores`` (one per row, higher = more positive) against 0/1 ``labels``."""
    y = binary_labels(labels)
    s = np.asarray(scores, dtype=float).ravel()
    if len(s) != len(y):
        raise ValueError(f"{len(s)} scores for {len(y)} labels")
    if len(y) == 0:
        raise ValueError("nothing to evaluate: no rows")
    if not np.isfinite(s).all():
        raise ValueError("the scores contain missing or infinite values")
    pred = (s >= threshold).astype(int)
    tn, fp, fn, tp = (int(v) for v in skm.confusion_matrix(y, pred, labels=[0, 1]).ravel())
    both = len(np.unique(y)) == 2
    probabilities = bool(((s >= 0) & (s <= 1)).all())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero_division is explicit; single-class cases are None
        if both:
            fpr, tpr, roc_thr = skm.roc_curve(y, s)
            roc_auc: float | None = float(skm.roc_auc_score(y, s))
        else:
            fpr = tpr = roc_thr = np.array([])
            roc_auc = None
        if y.any():
            pr_p, pr_r, _ = skm.precision_recall_curve(y, s)
            ap: float | None = float(skm.average_precision_score(y, s))
        else:
            pr_p = pr_r = np.array([])
            ap = None
        loss = float(skm.log_loss(y, s, labels=[0, 1])) if probabilities else None
        return Evaluation(
            threshold=float(threshold),
            n=len(y),
            positives=int(y.sum()),
            tn=tn,
            fp=fp,
            fn=fn,
            tp=tp,
            accuracy=float(skm.accuracy_score(y, pred)),
            precision=float(skm.precision_score(y, pred, zero_division=0)),
            recall=float(skm.recall_score(y, pred, zero_division=0)),
            f1=float(skm.f1_score(y, pred, zero_division=0)),
            log_loss=loss,
            roc_auc=roc_auc,
            average_precision=ap,
            roc_fpr=np.asarray(fpr, dtype=float),
            roc_tpr=np.asarray(tpr, dtype=float),
            roc_thresholds=np.asarray(roc_thr, dtype=float),
            pr_precision=np.asarray(pr_p, dtype=float),
            pr_recall=np.asarray(pr_r, dtype=float),
            labels=y,
            scores=s,
            source=source,
        )
