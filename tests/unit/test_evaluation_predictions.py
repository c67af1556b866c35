"""Predictions for evaluation: parsing the container's answers (one score per line, the legacy
one-line answer), InvokeEndpoint batching against the real container handler, model artifacts
predicted locally, and labelled CSV loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn import metrics as skm

from sagelocal.evaluation import (
    artifact_scores,
    evaluate_endpoint,
    evaluate_model_artifact,
    parse_labelled_csv,
    parse_scores,
)
from sagelocal.evaluation.data import S3Uri, csv_body
from tests.unit.evaluation_support import ContainerRuntime, booster_for, labelled_rows, model_tar


def test_parse_one_score_per_line_and_the_legacy_line() -> None:
    np.testing.assert_array_equal(parse_scores(b"0.25\n0.75\n0.5\n", 3), [0.25, 0.75, 0.5])
    np.testing.assert_array_equal(parse_scores(b"0.25,0.75,0.5", 3), [0.25, 0.75, 0.5])  # legacy
    np.testing.assert_array_equal(parse_scores("0.9", 1), [0.9])
    np.testing.assert_array_equal(parse_scores(b"0.9\n", 1), [0.9])
    np.testing.assert_array_equal(parse_scores(b"0.8,0.2\n0.3,0.7\n", 2), [0.2, 0.7])  # two-class rows
    with pytest.raises(ValueError, match="expected 3 scores, the answer has 2"):
        parse_scores(b"0.1\n0.2\n", 3)
    with pytest.raises(ValueError, match="expected 2 scores"):
        parse_scores(b"0.1,0.2,0.3", 2)
    with pytest.raises(ValueError, match="3 scores per row"):
        parse_scores(b"0.1,0.2,0.7\n0.3,0.3,0.4\n", 2)
    with pytest.raises(ValueError, match="not CSV numbers"):
        parse_scores(b'{"predictions": [{"score": 0.1}]}\nx\n', 2)


@pytest.mark.parametrize(
    "version", ["1.7-1", "1"]
)  # the algorithm container, and the legacy image's one line
def test_endpoint_scores_equal_the_booster_in_batches(tmp_path: Path, version: str) -> None:
    x, y = labelled_rows(n=230)
    booster = booster_for(x[:150], y[:150])
    booster.save_model(str(tmp_path / "xgboost-model.ubj"))
    (tmp_path / "xgboost-model.ubj").rename(tmp_path / "xgboost-model")
    runtime = ContainerRuntime(tmp_path, version=version)
    held_x, held_y = x[150:], y[150:]
    e = evaluate_endpoint(runtime, "ep", held_x, held_y, threshold=0.5, batch_rows=32)
    assert runtime.requests == [32, 32, 16]
    expected = booster.predict(xgb.DMatrix(held_x))
    np.testing.assert_allclose(e.scores, expected, rtol=1e-6)
    assert e.roc_auc == pytest.approx(skm.roc_auc_score(held_y, expected), abs=1e-9)
    assert e.accuracy == pytest.approx(skm.accuracy_score(held_y, expected >= 0.5))
    assert e.source == "endpoint ep"


def test_model_artifact_scores_equal_the_booster(tmp_path: Path) -> None:
    x, y = labelled_rows(n=200, seed=9)
    booster = booster_for(x[:120], y[:120])
    tar = model_tar(booster, tmp_path / "model.tar.gz")
    scores = artifact_scores(tar, x[120:])
    np.testing.assert_allclose(scores, booster.predict(xgb.DMatrix(x[120:])), rtol=1e-6)
    e = evaluate_model_artifact(str(tar), x[120:], y[120:], threshold=0.3)
    assert e.threshold == 0.3 and e.n == 80
    assert e.roc_auc == pytest.approx(skm.roc_auc_score(y[120:], scores), abs=1e-12)
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match=r"not a model\.tar\.gz"):
        artifact_scores(tmp_path / "junk.tar.gz", x)


def test_labelled_csv_columns_and_header() -> None:
    raw = b"1,0.5,2\n0,1.5,\n"
    features, labels = parse_labelled_csv(raw)
    np.testing.assert_array_equal(labels, [1, 0])
    np.testing.assert_array_equal(features[0], [0.5, 2])
    assert np.isnan(features[1, 1])
    features, labels = parse_labelled_csv(raw, label_column=2)
    np.testing.assert_array_equal(features, [[1, 0.5], [0, 1.5]])
    features, labels = parse_labelled_csv(b"a,y,b\n1,0,2\n3,1,4\n", label_column="y", header=True)
    np.testing.assert_array_equal(labels, [0, 1])
    np.testing.assert_array_equal(features, [[1, 2], [3, 4]])
    _, labels = parse_labelled_csv(b"a,y\n1,0\n", label_column="-1", header=True)
    np.testing.assert_array_equal(labels, [0])
    with pytest.raises(ValueError, match="needs --header"):
        parse_labelled_csv(b"a,y\n1,0\n")
    with pytest.raises(ValueError, match="out of range"):
        parse_labelled_csv(raw, label_column=5)
    with pytest.raises(ValueError, match="no column"):
        parse_labelled_csv(b"a,y\n1,0\n", label_column="z", header=True)


def test_csv_body_and_s3_uris() -> None:
    assert csv_body(np.array([[0.1, np.nan], [1e-20, 3.0]])) == b"0.1,\n1e-20,3.0\n"
    uri = S3Uri.parse("s3://bucket/some/prefix/")
    assert str(uri.join("metrics.json")) == "s3://bucket/some/prefix/metrics.json"
    assert str(S3Uri.parse("s3://bucket").join("a")) == "s3://bucket/a"
    with pytest.raises(ValueError):
        S3Uri.parse("/local/path")
