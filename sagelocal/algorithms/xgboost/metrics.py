"""Metric names the container knows, its custom (non-native) metrics, and the log-line regexes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAXIMIZE_METRICS: tuple[str, ...] = (
    "accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg",
    "precision", "r2", "recall", "precision_macro", "precision_micro", "recall_macro", "recall_micro",
)  # fmt: skip
MINIMIZE_METRICS: tuple[str, ...] = (
    "aft-nloglik", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik", "interval-regression-accuracy",
    "logloss", "mae", "mape", "merror", "mlogloss", "mphe", "mse", "poisson-nloglik", "rmse", "rmsle",
    "tweedie-nloglik",
)  # fmt: skip
ALL_METRICS: list[str] = [*MAXIMIZE_METRICS, *MINIMIZE_METRICS]

#: The numeric capture the service's metric definitions use (an ``(\S+)`` would swallow ``#011...``).
NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def metric_names() -> list[str]:
    """The HPO objective names the container declares: ``validation:<metric>``."""
    return [f"validation:{m}" for m in ALL_METRICS]


def metric_definitions(eval_metrics: list[str] | None = None) -> list[dict[str, str]]:
    """``{Name, Regex}`` pairs for ``train:<m>`` and ``validation:<m>`` in the CloudWatch-escaped log text."""
    names = eval_metrics or ALL_METRICS
    return [
        {"Name": f"{channel}:{m}", "Regex": rf".*\[[0-9]+\].*#011{channel}-{m}:{NUMBER}"}
        for channel in ("train", "validation")
        for m in names
    ]


def is_maximize(metric: str) -> bool:
    """Whether a larger value is better (early stopping direction)."""
    return metric.split("@")[0] in MAXIMIZE_METRICS


# --- container custom metrics (the container computes these with scikit-learn; numpy is enough) ----------


def _class_predictions(preds: Any, labels: Any, objective: str) -> Any:
    import numpy as np

    if preds.ndim == 2:
        return preds.argmax(axis=1).astype(labels.dtype)
    if objective.startswith("multi:softmax"):
        return preds
    threshold = 0.0 if objective in ("binary:logitraw", "binary:hinge") else 0.5
    if objective == "binary:hinge":
        return preds
    return (preds > threshold).astype(np.float32)


def _prf(y: Any, p: Any, average: str) -> tuple[float, float, float]:
    """Precision, recall and F1 the way scikit-learn averages them (zero division gives 0)."""
    import numpy as np

    def ratio(a: float, b: float) -> float:
        return float(a / b) if b else 0.0

    classes = np.union1d(y, p)
    if average == "binary":
        classes = np.array([1.0])
    tp = np.array([np.sum((p == c) & (y == c)) for c in classes], dtype=float)
    fp = np.array([np.sum((p == c) & (y != c)) for c in classes], dtype=float)
    fn = np.array([np.sum((p != c) & (y == c)) for c in classes], dtype=float)
    if average == "micro":
        prec, rec = ratio(tp.sum(), tp.sum() + fp.sum()), ratio(tp.sum(), tp.sum() + fn.sum())
        return prec, rec, ratio(2 * prec * rec, prec + rec)
    precs = [ratio(a, a + b) for a, b in zip(tp, fp, strict=True)]
    recs = [ratio(a, a + b) for a, b in zip(tp, fn, strict=True)]
    f1s = [ratio(2 * a * b, a + b) for a, b in zip(precs, recs, strict=True)]
    return float(np.mean(precs)), float(np.mean(recs)), float(np.mean(f1s))


def _classification(name: str) -> Callable[[Any, Any, str], float]:
    def compute(preds: Any, labels: Any, objective: str) -> float:
        import numpy as np

        p = _class_predictions(preds, labels, objective)
        if name == "accuracy":
            return float(np.mean(p == labels))
        if name == "balanced_accuracy":
            return float(np.mean([np.mean(p[labels == c] == c) for c in np.unique(labels)]))
        metric, _, average = name.partition("_")
        if not average:
            average = "binary" if np.unique(labels).size <= 2 else "macro"
        index = {"precision": 0, "recall": 1, "f1": 2}[metric]
        return _prf(labels, p, average)[index]

    return compute


def _regression(name: str) -> Callable[[Any, Any, str], float]:
    def compute(preds: Any, labels: Any, objective: str) -> float:
        import numpy as np

        err = preds.reshape(labels.shape) - labels
        if name == "mse":
            return float(np.mean(err**2))
        if name == "mae":
            return float(np.mean(np.abs(err)))
        total = float(np.sum((labels - labels.mean()) ** 2))
        return 1.0 - float(np.sum(err**2)) / total if total else 0.0

    return compute


CUSTOM_METRICS: dict[str, Callable[[Any, Any, str], float]] = {
    **{
        m: _classification(m)
        for m in (
            *("accuracy", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "precision", "precision_macro"),
            *("precision_micro", "recall", "recall_macro", "recall_micro"),
        )
    },
    **{m: _regression(m) for m in ("mse", "mae", "r2")},
}


def split_eval_metrics(eval_metrics: list[str]) -> tuple[list[str], list[str]]:
    """(native xgboost metrics, container custom metrics), each in the given order."""
    native = [m for m in eval_metrics if m not in CUSTOM_METRICS]
    return native, [m for m in eval_metrics if m in CUSTOM_METRICS]


def custom_metric_function(names: list[str], objective: str) -> Callable[[Any, Any], list[tuple[str, float]]]:
    """An ``xgb.train(custom_metric=...)`` callable computing the container's custom metrics."""

    def evaluate(preds: Any, dmatrix: Any) -> list[tuple[str, float]]:
        labels = dmatrix.get_label()
        return [(name, CUSTOM_METRICS[name](preds, labels, objective)) for name in names]

    return evaluate
