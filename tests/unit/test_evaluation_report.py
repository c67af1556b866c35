"""The report files: metrics.json's AUC is scikit-learn's, roc.png and pr.png show real curves,
report.html is self-contained, the summary table, and `sagelocal evaluate --model-artifact` run
in-process on local files (no server needed)."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from matplotlib.image import imread
from rich.console import Console
from sklearn import metrics as skm

from sagelocal.cli import main
from sagelocal.evaluation import evaluate_scores, summary_table, write_report
from sagelocal.evaluation.plots import POINT_COLOR, curve_pixels
from tests.unit.evaluation_support import booster_for, labelled_rows, model_tar, synthetic


def _curve_region(png: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(image, the curve's pixel coordinates) of a plot."""
    image = imread(io.BytesIO(png), format="png")
    return image, curve_pixels(png)


def test_files_and_metrics_json_auc(tmp_path: Path) -> None:
    labels, scores = synthetic(n=3000, seed=11)
    files = write_report(evaluate_scores(labels, scores, 0.5), tmp_path / "out", title="Bank <test>")
    assert [p.name for p in files.paths] == ["metrics.json", "roc.png", "pr.png", "report.html"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in files.paths)
    assert files.s3_uris == {}
    doc = json.loads(files.metrics_json.read_text())
    assert doc["roc_auc"] == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-12)
    assert doc["accuracy"] == pytest.approx(skm.accuracy_score(labels, scores >= 0.5), abs=1e-12)


def test_roc_png_shows_a_real_curve(tmp_path: Path) -> None:
    labels, scores = synthetic(n=3000, seed=12)
    files = write_report(evaluate_scores(labels, scores), tmp_path)
    png = files.roc_png.read_bytes()
    image, curve = _curve_region(png)
    height, width = image.shape[:2]
    assert (width, height) == (600, 500)
    assert np.unique(image[..., :3].reshape(-1, 3), axis=0).shape[0] > 50  # not a blank canvas
    assert image[..., :3].std() > 0.05
    assert len(curve) > 500  # a thick line across the axes, not just the legend swatch
    rows, cols = curve[:, 0], curve[:, 1]
    assert np.ptp(cols) > 0.6 * width and np.ptp(rows) > 0.6 * height
    # a better-than-chance curve bows to the upper left: most of its pixels lie above the diagonal
    # (plot y grows upward, image rows downward; the axes span roughly the same box both ways)
    x_frac = (cols - cols.min()) / np.ptp(cols)
    y_frac = 1 - (rows - rows.min()) / np.ptp(rows)
    assert (y_frac > x_frac).mean() > 0.8  # a chance-level curve gives about 0.5
    assert len(curve_pixels(png, POINT_COLOR)) > 20  # the threshold's operating point

    # a perfect and a useless classifier draw different pictures
    perfect = write_report(evaluate_scores(labels, labels * 0.8 + 0.1), tmp_path / "p").roc_png.read_bytes()
    assert perfect != png
    pr_image, pr_curve = _curve_region(files.pr_png.read_bytes())
    assert pr_image.shape[:2] == (500, 600) and len(pr_curve) > 500


def test_single_class_report_still_renders(tmp_path: Path) -> None:
    files = write_report(evaluate_scores([1, 1, 1, 1], [0.2, 0.4, 0.6, 0.9]), tmp_path)
    doc = json.loads(files.metrics_json.read_text())
    assert doc["roc_auc"] is None
    assert "n/a" in files.report_html.read_text()
    assert len(curve_pixels(files.roc_png.read_bytes())) < 300  # the legend swatch at most


def test_report_html_is_self_contained(tmp_path: Path) -> None:
    labels, scores = synthetic(n=500, seed=13)
    e = evaluate_scores(labels, scores, 0.5, source="endpoint bank-ep")
    files = write_report(e, tmp_path, title="Bank <test> & co")
    page = files.report_html.read_text()
    assert "<title>Bank &lt;test&gt; &amp; co</title>" in page
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no external resources
    assert "http://" not in page and "https://" not in page
    images = dict(re.findall(r'<img id="(\w+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page))
    assert set(images) == {"roc", "pr"}
    assert base64.b64decode(images["roc"]) == files.roc_png.read_bytes()
    assert base64.b64decode(images["pr"]) == files.pr_png.read_bytes()
    assert f">{e.tn}<" in page and f">{e.tp}<" in page and f"{e.roc_auc:.4f}" in page
    assert "endpoint bank-ep" in page


def test_summary_table_shows_metrics_and_confusion_matrix() -> None:
    labels, scores = synthetic(n=400, seed=14)
    e = evaluate_scores(labels, scores, 0.5, source="endpoint x")
    console = Console(file=io.StringIO(), width=100, record=True)
    console.print(summary_table(e))
    text = console.export_text()
    for needle in ("Accuracy", f"{e.accuracy:.4f}", "ROC AUC", f"{e.roc_auc:.4f}", "Log loss", "F1"):
        assert needle in text
    for count in (e.tn, e.fp, e.fn, e.tp):
        assert f"{count} (" in text
    assert "endpoint x" in text


def test_cli_evaluates_a_local_model_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    x, y = labelled_rows(n=260, seed=21)
    booster = booster_for(x[:160], y[:160])
    tar = model_tar(booster, tmp_path / "model.tar.gz")
    data = tmp_path / "test.csv"
    held = np.column_stack([x[160:, :2], y[160:], x[160:, 2:]])  # the label in column 2, with a header
    np.savetxt(data, held, delimiter=",", header="f0,f1,label,f2,f3,f4", comments="")
    out = tmp_path / "report"
    argv = ["evaluate", "--home", str(tmp_path / "no-home"), "--model-artifact", str(tar)]
    argv += ["--data", str(data), "--header", "--label-column", "label", "--threshold", "0.6"]
    assert main([*argv, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ROC AUC" in printed and str(out.resolve()) in printed.replace("\n", "")
    doc = json.loads((out / "metrics.json").read_text())
    expected = booster.predict(xgb.DMatrix(x[160:]))
    assert doc["roc_auc"] == pytest.approx(skm.roc_auc_score(y[160:], expected), abs=1e-9)
    assert doc["threshold"] == 0.6 and doc["n"] == 100
    cm = skm.confusion_matrix(y[160:], expected >= 0.6).tolist()
    assert doc["confusion_matrix"]["matrix"] == cm
    assert main([*argv[:-2], "--label-column", "nope", "--output", str(out)]) == 1
    assert "no column 'nope'" in capsys.readouterr().err
