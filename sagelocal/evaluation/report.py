"""The report: metrics.json, roc.png, pr.png and a self-contained report.html, on disk and in S3.

report.html carries its CSS and both images (base64 ``data:`` URIs) inline, references no external
URL and needs no JavaScript.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import S3Uri
from .metrics import Evaluation
from .plots import pr_png, roc_png

DEFAULT_TITLE = "Model evaluation"
CONTENT_TYPES = {
    "metrics.json": "application/json",
    "roc.png": "image/png",
    "pr.png": "image/png",
    "report.html": "text/html; charset=utf-8",
}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1260px;
       color: #1b1b1b; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
p.meta { color: #555; margin-top: 0; }
section { margin: 1.5rem 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.35rem 0.8rem; text-align: right; }
th { background: #f3f5f8; }
td.name, th.name { text-align: left; }
td.hit { background: #e6f4ea; }
td.miss { background: #fbe9e7; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
.plots figure { margin: 0; }
.plots img { max-width: 100%; border: 1px solid #ddd; }
"""


@dataclass(frozen=True)
class ReportFiles:
    """Where a report's four files went: the local directory and, when uploaded, their S3 URIs."""

    directory: Path
    metrics_json: Path
    roc_png: Path
    pr_png: Path
    report_html: Path
    s3_uris: dict[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> list[Path]:
        return [self.metrics_json, self.roc_png, self.pr_png, self.report_html]


def _fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def metric_rows(evaluation: Evaluation) -> list[tuple[str, str]]:
    """(name, formatted value) of the headline metrics, in display order."""
    e = evaluation
    return [
        ("Threshold", f"{e.threshold:g}"),
        ("Rows", f"{e.n} ({e.positives} positive, {e.negatives} negative)"),
        ("Accuracy", _fmt(e.accuracy)),
        ("Precision", _fmt(e.precision)),
        ("Recall", _fmt(e.recall)),
        ("F1", _fmt(e.f1)),
        ("Log loss", _fmt(e.log_loss)),
        ("ROC AUC", _fmt(e.roc_auc)),
        ("Average precision (PR AUC)", _fmt(e.average_precision)),
    ]


def render_html(evaluation: Evaluation, roc: bytes, pr: bytes, title: str = DEFAULT_TITLE) -> str:
    """report.html: metrics, confusion matrix and both plots, everything inline."""
    e = evaluation
    esc = html.escape
    metrics = "\n".join(
        f'<tr><td class="name">{esc(name)}</td><td>{esc(value)}</td></tr>' for name, value in metric_rows(e)
    )
    roc_src = "data:image/png;base64," + base64.b64encode(roc).decode()
    pr_src = "data:image/png;base64," + base64.b64encode(pr).decode()
    source = f"Predictions: {esc(e.source)}. " if e.source else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="icon" href="data:,">
<style>{_CSS}</style>
</head>
<body>
<h1>{esc(title)}</h1>
<p class="meta">{source}{e.n} rows, threshold {e.threshold:g}, created {esc(e.created)}.</p>
<section>
<h2>Metrics</h2>
<table id="metrics">
<tr><th class="name">Metric</th><th>Value</th></tr>
{metrics}
</table>
</section>
<section>
<h2>Confusion matrix</h2>
<table id="confusion-matrix">
<tr><th class="name">actual \\ predicted</th><th>0</th><th>1</th><th>total</th></tr>
<tr><th class="name">0</th><td class="hit">{e.tn}</td><td class="miss">{e.fp}</td><td>{e.tn + e.fp}</td></tr>
<tr><th class="name">1</th><td class="miss">{e.fn}</td><td class="hit">{e.tp}</td><td>{e.fn + e.tp}</td></tr>
<tr><th class="name">total</th><td>{e.tn + e.fn}</td><td>{e.fp + e.tp}</td><td>{e.n}</td></tr>
</table>
</section>
<section class="plots">
<figure><img id="roc" src="{roc_src}" alt="ROC curve" width="600" height="500">
<figcaption>ROC curve (AUC {_fmt(e.roc_auc)})</figcaption></figure>
<figure><img id="pr" src="{pr_src}" alt="Precision-recall curve" width="600" height="500">
<figcaption>Precision-recall curve (average precision {_fmt(e.average_precision)})</figcaption></figure>
</section>
</body>
</html>
"""


def write_report(
    evaluation: Evaluation,
    out_dir: Path,
    *,
    s3_client: Any = None,
    s3_uri: str | None = None,
    title: str = DEFAULT_TITLE,
) -> ReportFiles:
    """Write metrics.json, roc.png, pr.png and report.html to ``out_dir`` (created if needed) and,
    with ``s3_uri`` (a prefix) and ``s3_client``, upload the four files under it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    roc, pr = roc_png(evaluation), pr_png(evaluation)
    contents: dict[str, bytes] = {
        "metrics.json": (json.dumps(evaluation.to_json(), indent=2) + "\n").encode(),
        "roc.png": roc,
        "pr.png": pr,
        "report.html": render_html(evaluation, roc, pr, title).encode(),
    }
    for name, body in contents.items():
        (out_dir / name).write_bytes(body)
    uploaded: dict[str, str] = {}
    if s3_uri:
        if s3_client is None:
            raise ValueError("an S3 client is needed to upload the report")
        prefix = S3Uri.parse(s3_uri)
        for name, body in contents.items():
            target = prefix.join(name)
            s3_client.put_object(
                Bucket=target.bucket, Key=target.key, Body=body, ContentType=CONTENT_TYPES[name]
            )
            uploaded[name] = str(target)
    return ReportFiles(
        directory=out_dir,
        metrics_json=out_dir / "metrics.json",
        roc_png=out_dir / "roc.png",
        pr_png=out_dir / "pr.png",
        report_html=out_dir / "report.html",
        s3_uris=uploaded,
    )
