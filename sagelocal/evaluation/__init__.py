"""Evaluation of binary classifiers: metrics (scikit-learn), ROC and PR curves (matplotlib), reports.

From a notebook::

    from sagelocal.evaluation import evaluate_endpoint, write_report, summary_table
    evaluation = evaluate_endpoint(runtime, "my-endpoint", features, labels, threshold=0.5)
    files = write_report(evaluation, Path("report"), s3_client=s3, s3_uri="s3://bucket/eval/")

From a shell: ``sagelocal evaluate --endpoint NAME --data s3://bucket/test.csv``.

The names are imported on first use, so ``sagelocal.evaluation.cli`` (loaded by every ``sagelocal``
command) does not pay for scikit-learn and matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Evaluation": "metrics",
    "evaluate_scores": "metrics",
    "evaluate_endpoint": "api",
    "evaluate_model_artifact": "api",
    "evaluate_transform": "api",
    "load_labelled_csv": "data",
    "parse_labelled_csv": "data",
    "artifact_scores": "predictions",
    "endpoint_scores": "predictions",
    "parse_scores": "predictions",
    "ReportFiles": "report",
    "render_html": "report",
    "write_report": "report",
    "summary_table": "summary",
}
__all__ = [
    "Evaluation",
    "ReportFiles",
    "artifact_scores",
    "endpoint_scores",
    "evaluate_endpoint",
    "evaluate_model_artifact",
    "evaluate_scores",
    "evaluate_transform",
    "load_labelled_csv",
    "parse_labelled_csv",
    "parse_scores",
    "render_html",
    "summary_table",
    "write_report",
]

if TYPE_CHECKING:
    from .api import evaluate_endpoint, evaluate_model_artifact, evaluate_transform
    from .data import load_labelled_csv, parse_labelled_csv
    from .metrics import Evaluation, evaluate_scores
    from .predictions import artifact_scores, endpoint_scores, parse_scores
    from .report import ReportFiles, render_html, write_report
    from .summary import summary_table


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
