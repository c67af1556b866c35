"""Channels and data formats of the built-in XGBoost container: CSV, libsvm, parquet, recordio-protobuf."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

from sagelocal.algorithms.xgboost import data
from sagelocal.algorithms.xgboost.errors import UserError
from sagelocal.algorithms.xgboost.recordio import MAGIC, frames, read_dmatrix
from tests.unit.xgboost_support import binary_data, channel_config, csv_text, run_with


def test_channel_validation() -> None:
    ok = data.validate_channels({"train": channel_config(None), "validation": channel_config("csv")})
    assert ok["train"]["ContentType"] == "text/libsvm"  # the container's default
    for content_type in data.VALID_CONTENT_TYPES:
        data.validate_channels({"train": channel_config(content_type)})
    with pytest.raises(UserError, match=r"^Missing required channel: train$"):
        data.validate_channels({"validation": channel_config()})
    with pytest.raises(UserError, match=r"^Extraneous channel found: training$"):
        data.validate_channels({"train": channel_config(), "training": channel_config()})
    with pytest.raises(UserError) as info:
        data.validate_channels({"train": channel_config("text/csv;charset=utf-8")})
    assert info.value.message == (
        "Channel configuration for 'train' channel is not supported: {'TrainingInputMode': 'File', "
        "'S3DistributionType': 'FullyReplicated', 'RecordWrapperType': 'None', 'ContentType': 'text/csv;charset=utf-8'}"
    )
    with pytest.raises(UserError, match="Channel configuration for 'train'"):
        data.validate_channels({"train": channel_config("libsvm", mode="Pipe")})
    with pytest.raises(UserError, match="Channel configuration for 'train'"):  # legacy: csv and libsvm only
        data.validate_channels({"train": channel_config("application/x-parquet")}, legacy=True)
    code = {
        "ContentType": "text/python",
        "TrainingInputMode": "File",
        "S3DistributionType": "FullyReplicated",
    }
    data.validate_channels({"train": channel_config(), "code": code})


def test_content_format() -> None:
    assert data.content_format(None) == "libsvm"
    assert data.content_format("text/csv") == data.content_format("csv") == "csv"
    assert data.content_format("text/x-libsvm") == "libsvm"
    assert data.content_format("application/x-parquet") == "parquet"
    assert data.content_format("application/x-recordio-protobuf") == "recordio-protobuf"
    with pytest.raises(UserError, match="label_size must be equal to 1"):
        data.content_format("text/csv; label_size=2")
    with pytest.raises(UserError, match=r"^application/json is not an accepted ContentType: csv, libsvm, "):
        data.content_format("application/json")


def test_files_hidden_and_depth(tmp_path: Path) -> None:
    for rel in ("a.csv", "d1/b.csv", "d1/d2/c.csv", "d1/d2/d3/too-deep.csv"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("1,2\n")
    assert [p.name for p in data.data_files(tmp_path)] == ["a.csv", "b.csv", "c.csv"]
    assert data.channel_size(tmp_path) == 16
    assert data.channel_size(tmp_path / "missing") == 0
    (tmp_path / "d1" / "._b.csv").write_text("x")
    with pytest.raises(
        UserError, match=r"^Hidden file found in the data path! Remove that before training.$"
    ):
        data.channel_size(tmp_path)


def test_csv_delimiters_and_files_read_together(tmp_path: Path) -> None:
    y, x = binary_data(40)
    (tmp_path / "part").mkdir()
    (tmp_path / "a.csv").write_text(csv_text(y[:20], x[:20]).replace(",", ";"))
    (tmp_path / "part" / "b.csv").write_text(csv_text(y[20:], x[20:]).replace(",", ";"))
    dmatrix = data.load_dmatrix(tmp_path, "csv")
    assert (dmatrix.num_row(), dmatrix.num_col()) == (40, 5)
    assert sorted(dmatrix.get_label()) == sorted(y)
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "a#cache?x.csv").write_text(csv_text(y, x))  # names are never read as URI syntax
    assert data.load_dmatrix(odd, "csv").num_row() == 40
    tab = tmp_path / "tab.tsv"
    tab.write_text(csv_text(y, x).replace(",", "\t"))
    assert data.load_dmatrix(tab, "csv").num_col() == 5


def test_libsvm_first_line_check(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.write_text("1:2.0 0:1 3:4\n0 1:1\n")  # label:weight is accepted
    data.check_format([good], "libsvm")
    bad = tmp_path / "bad"
    bad.write_text("1,2,3\n")
    with pytest.raises(UserError) as info:
        data.check_format([bad], "libsvm")
    assert info.value.message == (
        "First line '1,2,3\n...' of file 'bad' is not 'LIBSVM' format. Please ensure the file is in 'LIBSVM' format."
    )


def test_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    y, x = binary_data(60)
    table = pa.table({"label": y, **{f"f{i}": x[:, i] for i in range(x.shape[1])}})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    channels = {"train": {"part-0.parquet": buffer.getvalue()}}
    result = run_with(tmp_path, {"num_round": "3", "objective": "binary:logistic"}, channels,
                      content_type="application/x-parquet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Train matrix has 60 rows and 5 columns" in result.stdout
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(UserError, match=r"^Failed to load parquet data with exception:\n"):
        data.load_dmatrix(tmp_path / "bad.parquet", "parquet")


def _recordio_dense(x: np.ndarray, y: np.ndarray) -> bytes:
    common = pytest.importorskip("sagemaker.amazon.common")  # the SDK's own writer
    buffer = io.BytesIO()
    common.write_numpy_to_dense_tensor(buffer, x.astype("float32"), y.astype("float32"))
    return buffer.getvalue()


def test_recordio_protobuf_dense_and_sparse(tmp_path: Path) -> None:
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    y, x = binary_data(50)
    dense = tmp_path / "dense.rec"
    dense.write_bytes(_recordio_dense(x, y))
    dmatrix = read_dmatrix([dense])
    assert (dmatrix.num_row(), dmatrix.num_col()) == (50, 5)
    np.testing.assert_allclose(dmatrix.get_label(), y)

    sparse_module = pytest.importorskip("scipy.sparse")
    common = pytest.importorskip("sagemaker.amazon.common")
    matrix = sparse_module.random(30, 8, density=0.3, format="csr", random_state=2, dtype="float32")
    buffer = io.BytesIO()
    common.write_spmatrix_to_sparse_tensor(buffer, matrix, y[:30].astype("float32"))
    sparse = tmp_path / "sparse.rec"
    sparse.write_bytes(buffer.getvalue())
    loaded = read_dmatrix([sparse])
    assert (loaded.num_row(), loaded.num_col()) == (30, 8)
    np.testing.assert_allclose(loaded.get_data().toarray(), matrix.toarray())

    result = run_with(tmp_path / "job", {"num_round": "2", "objective": "binary:logistic"},
                      {"train": {"d.rec": dense.read_bytes()}}, content_type="application/x-recordio-protobuf")  # fmt: skip
    assert result.returncode == 0, result.stderr

    broken = tmp_path / "broken.rec"
    broken.write_bytes(b"\x00" * 16)
    with pytest.raises(
        UserError, match=r"^Failed to load recordio-protobuf data with exception:\ninvalid RecordIO"
    ):
        data.load_dmatrix(broken, "recordio-protobuf")


def test_recordio_frames_padding_and_continuation() -> None:
    def frame(payload: bytes, cflag: int = 0) -> bytes:
        header = MAGIC.to_bytes(4, "little") + (len(payload) | cflag << 29).to_bytes(4, "little")
        return header + payload + b"\x00" * (-len(payload) % 4)

    blob = frame(b"abcde") + frame(b"12", 1) + frame(b"345", 3)
    assert list(frames(blob)) == [b"abcde", b"12345"]
    with pytest.raises(ValueError, match="truncated"):
        list(frames(frame(b"abcdefgh")[:10]))
