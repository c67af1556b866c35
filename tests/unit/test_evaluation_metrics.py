"""Evaluation metrics against scikit-learn computed independently here, the threshold's effect,
undefined cases, and metrics.json's content."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from sagelocal.evaluation import evaluate_scores
from tests.unit.evaluation_support import synthetic


def test_metrics_equal_sklearn_on_the_same_predictions() -> None:
    labels, scores = synthetic()
    e = evaluate_scores(labels, scores, threshold=0.5)
    predicted = (scores >= 0.5).astype(int)
    (tn, fp), (fn, tp) = skm.confusion_matrix(labels, predicted)
    assert (e.tn, e.fp, e.fn, e.tp) == (tn, fp, fn, tp)
    assert e.confusion_matrix.tolist() == skm.confusion_matrix(labels, predicted).tolist()
    assert e.n == len(labels) == tn + fp + fn + tp and e.positives == labels.sum()
    assert e.accuracy == pytest.approx(skm.accuracy_score(labels, predicted), abs=1e-12)
    assert e.accuracy == pytest.approx((tn + tp) / len(labels), abs=1e-12)
    assert e.precision == pytest.approx(tp / (tp + fp), abs=1e-12)
    assert e.recall == pytest.approx(tp / (tp + fn), abs=1e-12)
    assert e.f1 == pytest.approx(skm.f1_score(labels, predicted), abs=1e-12)
    assert e.log_loss == pytest.approx(skm.log_loss(labels, scores), abs=1e-12)
    assert e.roc_auc == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-12)
    assert e.average_precision == pytest.approx(skm.average_precision_score(labels, scores), abs=1e-12)
    assert 0.7 < e.roc_auc < 0.95  # informative but imperfect: a real curve
    fpr, tpr, _ = skm.roc_curve(labels, scores)
    np.testing.assert_array_equal(e.roc_fpr, fpr)
    np.testing.assert_array_equal(e.roc_tpr, tpr)
    assert np.trapezoid(e.roc_tpr, e.roc_fpr) == pytest.approx(e.roc_auc, abs=1e-12)
    precision, recall, _ = skm.precision_recall_curve(labels, scores)
    np.testing.assert_array_equal(e.pr_precision, precision)
    np.testing.assert_array_equal(e.pr_recall, recall)
    np.testing.assert_array_equal(e.predictions, predicted)


def test_the_threshold_moves_the_confusion_matrix_not_the_curves() -> None:
    labels, scores = synthetic(seed=5)
    low, mid, high = (evaluate_scores(labels, scores, t) for t in (0.2, 0.5, 0.8))
    assert low.tp + low.fp > mid.tp + mid.fp > high.tp + high.fp  # fewer predicted positives
    assert low.recall > mid.recall > high.recall
    assert low.precision < high.precision
    assert low.roc_auc == mid.roc_auc == high.roc_auc
    assert low.log_loss == high.log_loss
    for e, t in ((low, 0.2), (high, 0.8)):
        assert e.tp == int(((scores >= t) & (labels == 1)).sum())
        assert e.fp == int(((scores >= t) & (labels == 0)).sum())
    exact = evaluate_scores([0, 1, 1], [0.3, 0.5, 0.7], threshold=0.5)  # score == threshold: positive
    assert (exact.tn, exact.fp, exact.fn, exact.tp) == (1, 0, 0, 2)
    nobody = evaluate_scores(labels, scores, threshold=1.5)
    assert nobody.tp == nobody.fp == 0 and nobody.precision == 0.0 and nobody.recall == 0.0


def test_undefined_metrics_are_none() -> None:
    single = evaluate_scores([1, 1, 1], [0.2, 0.6, 0.9])
    assert single.roc_auc is None and len(single.roc_fpr) == 0
    assert single.average_precision == pytest.approx(1.0)
    no_positive = evaluate_scores([0, 0], [0.2, 0.6])
    assert no_positive.average_precision is None and no_positive.roc_auc is None
    margins = evaluate_scores([0, 1, 0, 1], [-2.0, 3.0, 0.1, 0.7], threshold=0.0)  # raw margins
    assert margins.log_loss is None and margins.roc_auc == pytest.approx(1.0)
    json.dumps(single.to_json(), allow_nan=False)


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([0, 2], [0.1, 0.2], "labels must be 0 or 1"),
        ([0, 1], [0.1], "1 scores for 2 labels"),
        ([], [], "no rows"),
        ([0, float("nan")], [0.1, 0.2], "missing"),
        ([0, 1], [0.1, float("nan")], "missing or infinite"),
    ],
)
def test_bad_input_is_refused(labels: list[float], scores: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate_scores(labels, scores)


def test_metrics_json_content_and_downsampled_curves() -> None:
    labels, scores = synthetic(n=20_000, seed=2)
    e = evaluate_scores(labels, scores, 0.4)
    doc = json.loads(json.dumps(e.to_json(), allow_nan=False))
    assert doc["roc_auc"] == skm.roc_auc_score(labels, scores)
    assert doc["threshold"] == 0.4 and doc["n"] == 20_000
    assert doc["confusion_matrix"]["matrix"] == skm.confusion_matrix(labels, scores >= 0.4).tolist()
    roc = doc["roc_curve"]
    assert roc["points"] == len(e.roc_fpr) > 1000
    assert len(roc["fpr"]) == len(roc["tpr"]) == len(roc["thresholds"]) == 1000
    assert roc["fpr"][0] == 0.0 and roc["fpr"][-1] == 1.0 and roc["tpr"][-1] == 1.0
    assert roc["thresholds"][0] is None  # sklearn's first threshold is +inf
    assert np.all(np.diff(roc["fpr"]) >= 0)
    # the downsampled curve still integrates to the AUC closely
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(doc["roc_auc"], abs=2e-3)
    assert len(doc["pr_curve"]["precision"]) == len(doc["pr_curve"]["recall"]) == 1000
    small = evaluate_scores(*synthetic(n=50)).to_json()
    assert len(small["roc_curve"]["fpr"]) == small["roc_curve"]["points"]
