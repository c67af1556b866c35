"""The summary printed on a terminal: the headline metrics and the confusion matrix as a rich table."""

from __future__ import annotations

from rich.table import Table

from .metrics import Evaluation
from .report import metric_rows


def confusion_table(evaluation: Evaluation) -> Table:
    """The 2x2 confusion matrix, actual classes as rows and predicted classes as columns."""
    e = evaluation
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("actual \\ predicted", justify="left")
    table.add_column("0", justify="right")
    table.add_column("1", justify="right")
    table.add_row("0", f"[green]{e.tn}[/] (TN)", f"[red]{e.fp}[/] (FP)")
    table.add_row("1", f"[red]{e.fn}[/] (FN)", f"[green]{e.tp}[/] (TP)")
    return table


def summary_table(evaluation: Evaluation) -> Table:
    """Every headline metric, then the confusion matrix, in one table."""
    title = "Evaluation" + (f" of {evaluation.source}" if evaluation.source else "")
    table = Table(title=title, show_header=True, header_style="bold cyan")
    table.add_column("Metric", justify="left")
    table.add_column("Value", justify="right")
    for name, value in metric_rows(evaluation):
        table.add_row(name, value)
    table.add_section()
    table.add_row("Confusion matrix", confusion_table(evaluation))
    return table
