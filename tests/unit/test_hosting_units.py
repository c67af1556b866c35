"""Pure pieces of hosting: weighted variant choice, batch-transform splitting and output naming,
invocation metrics."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sagelocal.compute.replicas import ReplicaSpec
from sagelocal.services.runtime.metrics import InvocationMetrics
from sagelocal.services.sagemaker.hosting import Deployment, Variant
from sagelocal.services.sagemaker.transform_run import TransformFailed, assemble, batches, output_name


def _variant(name: str, weight: float) -> Variant:
    return Variant(name, weight, ReplicaSpec(Path("."), {}), log_for=lambda _id: lambda _line: None)


def test_smooth_weighted_choice_is_exact_and_interleaved() -> None:
    deployment = Deployment("cfg", [_variant("A", 3.0), _variant("B", 1.0)])
    picks = [deployment.choose().name for _ in range(400)]  # type: ignore[union-attr]
    assert Counter(picks) == {"A": 300, "B": 100}
    assert all(picks[i : i + 4].count("B") == 1 for i in range(0, 400, 4))  # never 3 B's in a row


def test_target_variant_and_zero_weights() -> None:
    deployment = Deployment("cfg", [_variant("A", 0.0), _variant("B", 2.0)])
    assert {deployment.choose().name for _ in range(10)} == {"B"}  # type: ignore[union-attr]
    assert deployment.choose("A").name == "A"  # type: ignore[union-attr]  # pinned even at weight 0
    assert deployment.choose("C") is None
    assert Deployment("cfg", [_variant("A", 0.0)]).choose() is None


def test_line_split_batches() -> None:
    data = b"1,2\n3,4\n\n5,6"
    assert list(batches(data, "Line", "SingleRecord", 100)) == [b"1,2\n", b"3,4\n", b"5,6"]
    assert list(batches(data, "Line", "MultiRecord", 100)) == [b"1,2\n3,4\n5,6"]
    assert list(batches(data, "Line", "MultiRecord", 8)) == [b"1,2\n3,4\n", b"5,6"]
    assert list(batches(data, "None", "MultiRecord", 1)) == [data]  # whole object, however large
    with pytest.raises(TransformFailed, match="exceeds MaxPayloadInMB"):
        list(batches(b"123456789\n", "Line", "MultiRecord", 4))


def test_assemble_and_output_names() -> None:
    assert assemble([b"0.1\n0.2\n", b"0.3"], "Line") == b"0.1\n0.2\n0.3\n"
    assert assemble([b"ab", b"cd"], "None") == b"abcd"
    assert output_name("batch/input", "batch/input/test.csv") == "test.csv.out"
    assert output_name("batch/input/", "batch/input/sub/a.csv") == "sub/a.csv.out"
    assert output_name("batch/input/test.csv", "batch/input/test.csv") == "test.csv.out"


def test_metrics_per_minute() -> None:
    metrics = InvocationMetrics()
    key = ("123456789012", "us-east-1", "ep", "AllTraffic")
    metrics.record(key, 200, 500, 100)
    metrics.record(key, 415, 300, 120)
    metrics.record(key, 500, 800, 90)
    (series,) = metrics.snapshot()
    (point,) = series["Datapoints"]
    assert (point["Invocations"], point["Invocation4XXErrors"], point["Invocation5XXErrors"]) == (3, 1, 1)
    assert point["ModelLatency"]["SampleCount"] == 3 and point["ModelLatency"]["Maximum"] == 800
    assert metrics.snapshot("999999999999") == []
