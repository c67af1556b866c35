"""The model server's decoders, encoders and selectable output, byte for byte against contract §4."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from sagelocal.algorithms.xgboost import recordio
from sagelocal.serving.xgboost import encode, selectable
from sagelocal.serving.xgboost.decode import (
    DecodeError,
    _parse_large,
    csv_delimiter,
    parse_csv,
    parse_libsvm,
    parse_recordio,
    request_format,
)

from .serving_support import feature_record
from .serving_support import recordio as recordio_body

ACCEPTED = (
    "csv, libsvm, parquet, recordio-protobuf, text/csv, text/libsvm, text/x-libsvm, application/x-parquet, "
    "application/x-recordio-protobuf."
)


# --- Content-Type ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "fmt"),
    [
        ("text/csv", "csv"),
        ("TEXT/CSV; charset=utf-8", "csv"),
        ("text/csv; label_size=1", "csv"),
        ("csv", "csv"),
        (None, "libsvm"),
        ("text/x-libsvm", "libsvm"),
        ("application/x-recordio-protobuf", "recordio-protobuf"),
    ],
)
def test_request_format(header: str | None, fmt: str) -> None:
    assert request_format(header) == fmt


def test_request_format_refusals() -> None:
    with pytest.raises(DecodeError) as exc:
        request_format("application/octet-stream")
    assert str(exc.value) == f"application/octet-stream is not an accepted ContentType: {ACCEPTED}"
    with pytest.raises(DecodeError) as exc:
        request_format("application/x-parquet")
    assert str(exc.value) == "Content-type application/x-parquet is not supported."
    with pytest.raises(DecodeError) as exc:
        request_format("text/csv; label_size=2")
    assert "Optional parameter label_size must be equal to 1" in str(exc.value)


# --- CSV ------------------------------------------------------------------------------------------------


def _container_delimiter(line: str) -> str:
    sniffed = csv.Sniffer().sniff(line[:512]).delimiter
    return "," if sniffed.isalnum() else sniffed


@pytest.mark.parametrize(
    "line",
    ["1,2,3", "1.5,,3", ",,,", "1e-3,-2,inf,nan", "a,b;c", "1;2,3;4", "1\t2,3", "0,1 2,3", "x" * 600 + ",1"],
)
def test_comma_shortcut_agrees_with_the_sniffer(line: str) -> None:
    assert csv_delimiter(line) == _container_delimiter(line)


@pytest.mark.parametrize("line", ["1;2;3", "1\t2\t3", "0.5", "7", "1|2|3", "'1','2'"])
def test_sniffed_delimiters(line: str) -> None:
    assert csv_delimiter(line) == _container_delimiter(line)


def test_parse_csv_values_and_missing() -> None:
    got = parse_csv(b"  1,2.5,,-4\n,0,1e2,nan\n\n")
    want = np.array([[1, 2.5, np.nan, -4], [np.nan, 0, 100, np.nan]])
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(parse_csv(b"1;2;3\n4;5;6"), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(parse_csv(b"0.25"), [[0.25]])


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"a,b\n1,2", "<class 'ValueError'>\n could not convert string to float: 'a'"),
        (b"1,2\n3,x", "<class 'ValueError'>\n could not convert string to float: 'x'"),
    ],
)
def test_parse_csv_failures(body: bytes, detail: str) -> None:
    with pytest.raises(DecodeError) as exc:
        parse_csv(body)
    assert str(exc.value) == (
        f"Loading csv data failed with Exception, please ensure data is in csv format:\n {detail}"
    )


def test_parse_csv_ragged_and_blank_interior_lines_fail() -> None:
    for body in (b"1,2,3\n4,5", b"1,2\n\n3,4"):
        with pytest.raises(DecodeError) as exc:
            parse_csv(body)
        assert str(exc.value).startswith(
            "Loading csv data failed with Exception, please ensure data is in csv format:\n <class 'ValueError'>\n"
        )


# --- libsvm ---------------------------------------------------------------------------------------------


def test_parse_libsvm_ignores_labels_and_keeps_indices() -> None:
    got = parse_libsvm(b"1 0:0.5 3:2\n0 1:-1\n")
    np.testing.assert_array_equal(got.toarray(), [[0.5, 0, 0, 2], [0, -1, 0, 0]])
    shifted = parse_libsvm(b"1 1:0.5 4:2", shift=True)
    np.testing.assert_array_equal(shifted.toarray(), [[0.5, 0, 0, 2]])


def test_parse_libsvm_failure() -> None:
    with pytest.raises(DecodeError) as exc:
        parse_libsvm(b"1 a:0.5")
    assert str(exc.value) == (
        "Loading libsvm data failed with Exception, please ensure data is in libsvm format:\n"
        " <class 'ValueError'>\n invalid literal for int() with base 10: 'a'"
    )


# --- RecordIO-protobuf ----------------------------------------------------------------------------------


def test_parse_recordio_dense_and_sparse() -> None:
    dense = recordio_body([feature_record([1.0, 2.0, 3.0]), feature_record([4.0, 5.0, 6.0])])
    np.testing.assert_array_equal(parse_recordio(dense), [[1, 2, 3], [4, 5, 6]])
    sparse = recordio_body(
        [feature_record([1.5, 2.5], keys=[0, 3], shape=[5]), feature_record([7.0], [2], [5])]
    )
    np.testing.assert_array_equal(parse_recordio(sparse).toarray(), [[1.5, 0, 0, 2.5, 0], [0, 0, 7, 0, 0]])


def test_parse_recordio_failure() -> None:
    with pytest.raises(DecodeError) as exc:
        parse_recordio(b"not recordio at all")
    assert str(exc.value).startswith(
        "Loading recordio-protobuf data failed with Exception, please ensure data is in recordio-protobuf "
        "format: <class 'ValueError'> invalid RecordIO magic"
    )


# --- plain encoders -------------------------------------------------------------------------------------

BINARY = np.array([0.8824821710586548, 0.125], dtype=np.float32)
MULTI = np.array([[0.25, 0.5, 0.25], [0.125, 0.125, 0.75]], dtype=np.float32)


def test_float32_printed_as_python_float() -> None:
    assert encode.csv_rows(np.array([0.88248217], dtype=np.float32)) == b"0.8824821710586548\n"


def test_csv_json_batch_and_legacy_bytes() -> None:
    assert encode.csv_rows(BINARY) == b"0.8824821710586548\n0.125\n"
    assert encode.csv_rows(MULTI) == b"0.25,0.5,0.25\n0.125,0.125,0.75\n"
    assert encode.json_scores(BINARY) == b'{"predictions": [{"score": 0.8824821710586548}, {"score": 0.125}]}'
    assert encode.json_scores(MULTI[:1]) == b'{"predictions": [{"score": [0.25, 0.5, 0.25]}]}'
    assert encode.batch_lines(BINARY) == b"0.8824821710586548\n0.125\n"
    assert encode.batch_lines(MULTI) == b"[0.25, 0.5, 0.25]\n[0.125, 0.125, 0.75]\n"
    assert encode.legacy_line(BINARY) == b"0.8824821710586548,0.125"


@pytest.mark.parametrize(
    ("header", "default", "want"),
    [
        (None, None, "text/csv"),
        ("*/*", None, "text/csv"),
        ("", "application/json", "application/json"),
        ("Application/JSON; charset=utf-8", None, "application/json"),
        ("application/x-recordio-protobuf", None, "application/x-recordio-protobuf"),
    ],
)
def test_parse_accept(header: str | None, default: str | None, want: str) -> None:
    assert encode.parse_accept(header, default) == want


def test_parse_accept_406_message() -> None:
    with pytest.raises(encode.NotAcceptable) as exc:
        encode.parse_accept("application/x-npy", None)
    assert str(exc.value) == (
        "Accept type application/x-npy is not supported. Please use supported accept types: "
        "['application/json', 'application/jsonlines', 'application/x-recordio-protobuf', 'text/csv']."
    )


# --- selectable output ----------------------------------------------------------------------------------


def test_selected_keys_parsing() -> None:
    assert selectable.selected_keys(" Predicted_Label , PROBABILITY") == ["predicted_label", "probability"]


def test_select_binary_logistic() -> None:
    keys = ["predicted_label", "labels", "probability", "probabilities", "raw_score", "raw_scores"]
    content = selectable.select(np.array([0.75, 0.25], dtype=np.float32), keys, "binary:logistic", "0")
    assert content[0] == {
        "predicted_label": 1,
        "labels": [0, 1],
        "probability": 0.75,
        "probabilities": [0.25, 0.75],
        "raw_score": 0.75,
        "raw_scores": [0.25, 0.75],
    }
    assert content[1]["predicted_label"] == 0


def test_select_multi_softprob_and_invalid_key_nan() -> None:
    keys = ["probabilities", "predicted_score", "predicted_label", "labels", "probability"]
    (row,) = selectable.select(MULTI[1:], keys, "multi:softprob", "3")
    assert row["predicted_label"] == 2 and row["labels"] == [0, 1, 2] and row["probability"] == 0.75
    assert row["probabilities"] == [0.125, 0.125, 0.75]
    assert math.isnan(row["predicted_score"]) and list(row)[-1] == "predicted_score"


def test_select_regression_and_unsupported_objective() -> None:
    (row,) = selectable.select(np.array([1.5], dtype=np.float32), ["predicted_score"], "reg:squarederror")
    assert row == {"predicted_score": 1.5}
    with pytest.raises(ValueError) as exc:
        selectable.select(np.array([1.0], dtype=np.float32), ["predicted_score"], "count:poisson")
    assert str(exc.value) == "Objective `count:poisson` unsupported for selectable inference predictions."


def test_selectable_encodings() -> None:
    content = [
        {"predicted_label": 1, "probabilities": [0.25, 0.75]},
        {"predicted_label": 0, "probabilities": [1.0, 0.0]},
    ]
    keys = ["probabilities", "predicted_label"]
    assert selectable.to_csv(content, keys) == b'"[0.25, 0.75]",1\n"[1.0, 0.0]",0'
    assert selectable.to_csv(content, keys, batch=True).endswith(b",0\n")
    assert (
        selectable.to_json(content[:1])
        == b'{"predictions": [{"predicted_label": 1, "probabilities": [0.25, 0.75]}]}'
    )
    assert selectable.to_jsonlines(content) == (
        b'{"predicted_label": 1, "probabilities": [0.25, 0.75]}\n{"predicted_label": 0, "probabilities": [1.0, 0.0]}\n'
    )
    assert selectable.to_json([{"probability": math.nan}]) == b'{"predictions": [{"probability": NaN}]}'
    with pytest.raises(
        RuntimeError, match="Cannot encode selected predictions into accept type 'text/plain'"
    ):
        selectable.encode(content, keys, "text/plain")


def test_selectable_recordio_round_trip() -> None:
    content = [
        {"predicted_label": 1, "probabilities": [0.25, 0.75]},
        {"predicted_label": 0, "probabilities": [0.5, 0.5]},
    ]
    body = selectable.to_recordio(content)
    assert len(body) % 4 == 0
    records = [recordio.parse_record(frame)["label"] for frame in recordio.frames(body)]
    assert len(records) == 2
    values, keys, shape = records[0]["probabilities"]
    assert (
        values.dtype == np.float32 and values.tolist() == [0.25, 0.75] and keys.size == 0 and shape.size == 0
    )
    assert records[1]["predicted_label"][0].tolist() == [0.0]


def test_large_csv_bodies_parse_as_small_ones_do() -> None:
    """Bodies over 4 KB take NumPy's C parser; values and every failure must match the per-value path."""
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(300, 12)) * 10.0 ** rng.integers(-5, 5, size=(300, 12))
    lines = [",".join(repr(float(v)) for v in row) for row in rows]
    big = "\n".join(lines).encode()
    assert len(big) > 4096
    expected = np.array([[float(v) for v in line.split(",")] for line in lines])
    fast = _parse_large(big.decode(), ",")  # the C path itself takes this body
    assert fast is not None
    np.testing.assert_array_equal(fast, expected)
    np.testing.assert_array_equal(parse_csv(big), expected)
    np.testing.assert_array_equal(parse_csv(big.replace(b",", b"\t")), expected)  # sniffed delimiter

    with_empty = "\n".join(["," + lines[0].split(",", 1)[1], *lines[1:]]).encode()
    got = parse_csv(with_empty)  # an empty field is missing (NaN), as for the container
    assert np.isnan(got[0, 0]) and np.isnan(got).sum() == 1
    for body in (
        "\n".join([*lines[:5], "", *lines[5:]]),  # blank interior line
        "\n".join([*lines, "1,2"]),  # ragged row
        "\n".join([*lines, ",".join(["x"] * 12)]),  # bad token
    ):
        assert _parse_large(body, ",") is None  # left to the per-value path and its messages
        with pytest.raises(DecodeError) as exc:
            parse_csv(body.encode())
        assert str(exc.value).startswith(
            "Loading csv data failed with Exception, please ensure data is in csv format:\n <class 'ValueError'>\n"
        )
