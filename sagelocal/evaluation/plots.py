"""roc.png and pr.png, drawn with matplotlib's Agg canvas (no display, no pyplot global state)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .metrics import Evaluation

CURVE_COLOR = "#1f5fbf"  # the curve; tests look for it in the image
POINT_COLOR = "#d62728"  # the operating point at the evaluation's threshold
CHANCE_COLOR = "#888888"
SIZE_INCHES = (6.0, 5.0)
DPI = 100


def _figure() -> tuple[Figure, Axes]:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)


def roc_png(evaluation: Evaluation) -> bytes:
    """The ROC curve with its AUC, the chance diagonal and the threshold's operating point."""
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], linestyle="--", color=CHANCE_COLOR, linewidth=1, label="chance")
    if evaluation.roc_auc is None:
        _empty(ax, "ROC undefined: the labels have a single class")
    else:
        ax.plot(
            evaluation.roc_fpr,
            evaluation.roc_tpr,
            color=CURVE_COLOR,
            linewidth=2.5,
            label=f"ROC (AUC = {evaluation.roc_auc:.4f})",
        )
        negatives, positives = evaluation.negatives, evaluation.positives
        fpr = evaluation.fp / negatives if negatives else 0.0
        tpr = evaluation.tp / positives if positives else 0.0
        ax.plot(
            [fpr], [tpr], "o", color=POINT_COLOR, markersize=7, label=f"threshold {evaluation.threshold:g}"
        )
    ax.set(
        xlim=(-0.01, 1.01),
        ylim=(-0.01, 1.01),
        xlabel="False positive rate",
        ylabel="True positive rate",
        title="ROC curve",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return _png(fig)


def pr_png(evaluation: Evaluation) -> bytes:
    """The precision-recall curve with its average precision, the prevalence line and the operating point."""
    fig, ax = _figure()
    if evaluation.average_precision is None:
        _empty(ax, "PR curve undefined: no positive labels")
    else:
        prevalence = evaluation.positives / evaluation.n
        ax.axhline(prevalence, linestyle="--", color=CHANCE_COLOR, linewidth=1, label="prevalence")
        ax.step(
            evaluation.pr_recall,
            evaluation.pr_precision,
            where="post",
            color=CURVE_COLOR,
            linewidth=2.5,
            label=f"PR (AP = {evaluation.average_precision:.4f})",
        )
        if evaluation.tp + evaluation.fp:
            ax.plot(
                [evaluation.recall],
                [evaluation.precision],
                "o",
                color=POINT_COLOR,
                markersize=7,
                label=f"threshold {evaluation.threshold:g}",
            )
    ax.set(
        xlim=(-0.01, 1.01),
        ylim=(-0.01, 1.01),
        xlabel="Recall",
        ylabel="Precision",
        title="Precision-recall curve",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    fig.tight_layout()
    return _png(fig)


def curve_pixels(png: bytes, color: str = CURVE_COLOR, tolerance: int = 40) -> np.ndarray:
    """(row, column) of the pixels within ``tolerance`` of ``color``: where a curve was drawn."""
    from matplotlib import colors
    from matplotlib.image import imread

    image = imread(io.BytesIO(png), format="png")[..., :3]
    target = np.array(colors.to_rgb(color))
    close = (np.abs(image - target) * 255 <= tolerance).all(axis=-1)
    return np.argwhere(close)
