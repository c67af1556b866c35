"""How `sagelocal demo` prints its steps: one line per finished step with its time, then details."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.table import Table

TITLES = {
    "session": "Session, role and bucket (from inside the instance)",
    "denied": "A bucket without 'sagemaker' in its name",
    "prepare": "Prepare the bank-marketing data",
    "upload": "Upload to S3",
    "train": "Train the built-in XGBoost model",
    "deploy": "Deploy to a real-time endpoint",
    "evaluate": "Evaluate on the held-out 30% through the endpoint",
    "clean": "Delete the endpoint, its configuration, the model and the objects",
}


def inside_titles(keep: bool) -> list[str]:
    names = [n for n in TITLES if not (keep and n == "clean")]
    return [TITLES[n] for n in names]


def intro(console: Console) -> None:
    console.print(
        "[bold]sagelocal demo[/bold] — SageMaker's develop → train → deploy → evaluate → clean-up "
        "workflow, on this machine.\nData: UCI Bank Marketing (Moro et al., 2014), CC BY 4.0 — "
        "see sagelocal/data/bank-marketing/NOTICE.md"
    )


def done(console: Console, title: str, started: float, lines: list[Any], *, failed: bool = False) -> None:
    """`✓ title (seconds)`, then each detail: strings indented, tables as they are."""
    mark = "[red]✗[/red]" if failed else "[green]✓[/green]"
    console.print(f"{mark} [bold]{title}[/bold] [dim]({time.perf_counter() - started:.1f} s)[/dim]")
    for line in lines:
        if isinstance(line, str):
            console.print(f"    {line}", highlight=False)
        else:
            console.print(line)


def _inside_lines(event: dict[str, Any]) -> list[str]:
    step = event["step"]
    if "error" in event:
        return [f"[red]{event['error']}[/red]"]
    if step == "session":
        made = "created" if event["created_bucket"] else "already there"
        return [
            f"acting as {event['caller']}",
            f"execution role {event['role']}",
            f"bucket {event['bucket']} ({made})",
        ]
    if step == "denied":
        return [
            f"CreateBucket {event['bucket']}: allowed (the policy grants s3:CreateBucket on any bucket)",
            f"PutObject into it: {event['code']}",
            event["message"],
        ]
    if step == "prepare":
        return [
            f"{event['rows']:,} rows → {event['features']} features after one-hot encoding; label first",
            f"70/30 split (seed 1729): {event['train']:,} to train, {event['test']:,} held out",
        ]
    if step == "upload":
        return [event["train"], event["test"]]
    if step == "train":
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in sorted(event["metrics"].items()))
        return [
            f"{event['job']}: {event['status']} on {event['instance_type']}, "
            f"billable {event['billable_seconds']} s",
            f"image {event['image']}",
            f"final metrics: {metrics or '(none)'}",
            f"model {event['model']}",
        ]
    if step == "deploy":
        return [f"{event['endpoint']}: {event['status']} on 1 x {event['instance_type']}"]
    if step == "evaluate":
        return [f"report {event['report']} (and {event['s3']})"]
    if step == "clean":
        return ["deleted " + ", ".join(event["deleted"])]
    return []


def inside_step(console: Console, event: dict[str, Any], started: float) -> None:
    title = TITLES.get(event["step"], event["step"])
    console.print(
        f"{'[red]✗' if 'error' in event else '[green]✓'}[/] [bold]{title}[/bold] "
        f"[dim]({event['seconds']:.1f} s)[/dim]"
    )
    for line in _inside_lines(event):
        console.print(f"    {line}", highlight=False)
    if event["step"] == "evaluate" and "metrics" in event:
        console.print(evaluation_table(event["metrics"]))


def evaluation_table(metrics: dict[str, Any]) -> Table:
    """The evaluation as printed: confusion matrix, accuracy and the curve summaries."""
    table = Table(title=f"Evaluation at threshold {metrics['threshold']}", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    cm = metrics["confusion_matrix"]
    for label, key in (("true negatives", "tn"), ("false positives", "fp")):
        table.add_row(label, f"{cm[key]:,}")
    for label, key in (("false negatives", "fn"), ("true positives", "tp")):
        table.add_row(label, f"{cm[key]:,}")
    for key in ("accuracy", "precision", "recall", "f1", "log_loss", "roc_auc", "average_precision"):
        if metrics.get(key) is not None:
            table.add_row(key.replace("_", " "), f"{metrics[key]:.4f}")
    return table


def kept(console: Console, clients: Any, created: Any, server: Any) -> None:
    """--keep: where everything is, and how to come back to it."""
    sm = clients.client("sagemaker")
    url = sm.create_presigned_notebook_instance_url(NotebookInstanceName=created.notebook)["AuthorizedUrl"]
    console.print("[bold]Kept[/bold] — everything is still there:")
    for line in (
        f"home {server.home} (the server stops with this command; start it again with "
        f"`sagelocal server --home {server.home} --port {server.port}`)",
        f"JupyterLab in {created.notebook} (while the server runs; the link expires): {url}",
        f"a fresh link: aws sagemaker create-presigned-notebook-instance-url "
        f"--notebook-instance-name {created.notebook}",
        f'clients: eval "$(sagelocal env --home {server.home})"',
        f"when done: sagelocal cleanup --home {server.home} --yes",
    ):
        console.print(f"    {line}", highlight=False)
