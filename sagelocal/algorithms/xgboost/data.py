"""Reading a job's channels as the built-in XGBoost container does (contract §2).

Channel configuration is checked against the container's supported (ContentType, mode, distribution) set;
data files are found recursively (3 levels), hidden files are refused, and each format is loaded into an
``xgboost.DMatrix``.  Every failure raises :class:`UserError`/:class:`AlgorithmError` with the container's text.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

from .errors import AlgorithmError, UserError

log = logging.getLogger("sagelocal.algorithms.xgboost")

CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF = "csv", "libsvm", "parquet", "recordio-protobuf"
VALID_CONTENT_TYPES = [
    CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF, "text/csv", "text/libsvm", "text/x-libsvm", "application/x-parquet",
    "application/x-recordio-protobuf",
]  # fmt: skip
VALID_PIPED_CONTENT_TYPES = [c for c in VALID_CONTENT_TYPES if "libsvm" not in c]
LEGACY_CONTENT_TYPES = ["text/csv", "text/libsvm", "csv", "libsvm"]
MAX_FOLDER_DEPTH = 3
NO_LABELS = (
    "Got input data without labels. Please check the input data set. If training job is running on multiple "
    "instances, please switch to using single instance if number of records in the data set is less than number "
    "of workers (16 * number of instance) in the cluster."
)


def _supported(content_types: list[str], pipe_types: list[str]) -> set[tuple[str, str, str]]:
    out = set()
    for dist in ("FullyReplicated", "ShardedByS3Key"):
        out |= {(ct, "File", dist) for ct in content_types} | {(ct, "Pipe", dist) for ct in pipe_types}
    return out


def validate_channels(
    data_config: dict[str, dict[str, Any]], legacy: bool = False
) -> dict[str, dict[str, Any]]:
    """Check ``inputdataconfig.json`` as the container does; fill the default ContentType (text/libsvm)."""
    if "train" not in data_config:
        raise UserError("Missing required channel: train")
    types = LEGACY_CONTENT_TYPES if legacy else VALID_CONTENT_TYPES
    data_supported = _supported(types, [] if legacy else VALID_PIPED_CONTENT_TYPES)
    supported = {"train": data_supported, "validation": data_supported}
    supported["code"] = {("text/python", "File", "FullyReplicated")}
    validated = {}
    for name, value in data_config.items():
        if name not in supported:
            raise UserError(f"Extraneous channel found: {name}")
        value = dict(value)
        value.setdefault("ContentType", "text/libsvm")
        key = (value.get("ContentType"), value.get("TrainingInputMode"), value.get("S3DistributionType"))
        if key not in supported[name]:
            raise UserError(f"Channel configuration for '{name}' channel is not supported: {value}")
        validated[name] = value
    return validated


def content_format(content_type: str | None) -> str:
    """``text/csv`` → ``csv`` etc.; a ``label_size`` other than 1 is refused."""
    if content_type is None:
        return LIBSVM
    base, _, params = content_type.lower().partition(";")
    base = base.strip()
    if base in (CSV, "text/csv"):
        if "label_size" in params and params.split("label_size=")[-1].split(";")[0].strip() != "1":
            raise UserError(
                f"{content_type} is not an accepted csv ContentType. Optional parameter label_size must be equal to 1"
            )
        return CSV
    for fmt, names in ((LIBSVM, ("text/libsvm", "text/x-libsvm")), (PARQUET, ("application/x-parquet",)),
                       (RECORDIO_PROTOBUF, ("application/x-recordio-protobuf",))):  # fmt: skip
        if base == fmt or base in names:
            return fmt
    raise UserError(f"{content_type} is not an accepted ContentType: " + ", ".join(VALID_CONTENT_TYPES) + ".")


def channel_size(path: Path) -> int:
    """Total bytes under a channel; a hidden file anywhere is refused (as the container does)."""
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            if name.startswith("."):
                raise UserError("Hidden file found in the data path! Remove that before training.")
            total += os.path.getsize(os.path.join(root, name))
    return total


def data_files(path: Path) -> list[Path]:
    """Files up to MAX_FOLDER_DEPTH levels under a channel, sorted; deeper files are ignored with a warning."""
    if path.is_file():
        return [path]
    found: list[Path] = []
    for root, dirs, files in os.walk(path):
        depth = len(Path(root).relative_to(path).parts) + 1
        if depth > MAX_FOLDER_DEPTH:
            log.warning(
                "The depth of folder %s exceed the limit %d. Files in deeper sub dirs won't be loaded. "
                "Please adjust the folder structure accordingly.", path, MAX_FOLDER_DEPTH,
            )  # fmt: skip
            dirs.clear()
            continue
        dirs.sort()
        found.extend(Path(root) / f for f in sorted(files))
    return found


def sniff_delimiter(line: str) -> str:
    """The container's ``csv.Sniffer`` on the first line; failure is a ClientError."""
    try:
        delimiter = csv.Sniffer().sniff(line).delimiter
    except Exception as exc:
        raise UserError(f"Could not determine delimiter on line {line[:50]}:\n{exc}") from exc
    log.info("Determined delimiter of CSV input is '%s'", delimiter)
    return delimiter


def _first_line(path: Path) -> str:
    with open(path, errors="ignore") as f:
        return f.readline()


def _libsvm_features(line: str) -> int:
    """Number of ``idx:val`` tokens, or -1 when the line is not LIBSVM (the container's check)."""
    tokens = line.split(" ")
    label = tokens[0].split(":")
    try:
        if len(label) > 2:
            return -1
        for part in label:
            float(part)
    except ValueError:
        return -1
    for token in tokens[1:]:
        if ":" not in token or len(tokens[1].split(":")) != 2:
            return -1
    return len(tokens) - 1


def check_format(files: list[Path], fmt: str) -> None:
    """The container's first-line checks: a sniffable CSV delimiter, a LIBSVM-shaped first feature line."""
    for file in files:
        if fmt == CSV:
            sniff_delimiter(_first_line(file))
        elif fmt == LIBSVM:
            with open(file, errors="ignore") as f:
                for line in f:
                    n = _libsvm_features(line)
                    if n > 1:
                        break
                    if n < 0:
                        raise UserError(
                            f"First line '{line[:50]}...' of file '{file.name}' is not 'LIBSVM' format. "
                            "Please ensure the file is in 'LIBSVM' format."
                        )


def _xgb_text(exc: BaseException) -> str:
    """XGBoost's message without its native stack trace."""
    return str(exc).split("\nStack trace:")[0]


def _from_uri(files: list[Path], query: str, fmt_name: str) -> Any:
    import xgboost as xgb

    with tempfile.TemporaryDirectory(prefix="sagelocal-xgb-") as tmp:
        # one directory of links, as the container builds: XGBoost reads every file, and names with '?' or
        # '#' cannot be mistaken for URI syntax
        for i, file in enumerate(files):
            os.symlink(file.resolve(), os.path.join(tmp, f"part-{i:06d}"))
        target = tmp
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Text file input has been deprecated since 3.1"
                return xgb.DMatrix(f"{target}?{query}")
        except Exception as exc:
            raise UserError(f"Failed to load {fmt_name} data with exception:\n{_xgb_text(exc)}") from exc


def load_dmatrix(path: Path, fmt: str, csv_weights: int = 0) -> Any:
    """Load one channel into a DMatrix (the channel must have data)."""
    files = data_files(path)
    if fmt == CSV:
        delimiter = sniff_delimiter(_first_line(files[0]))
        query = f"format=csv&label_column=0&delimiter={delimiter}"
        dmatrix = _from_uri(files, query + ("&weight_column=1" if csv_weights == 1 else ""), "csv")
    elif fmt == LIBSVM:
        dmatrix = _from_uri(files, "format=libsvm", "libsvm")
    elif fmt == PARQUET:
        dmatrix = _load_parquet(files)
    elif fmt == RECORDIO_PROTOBUF:
        dmatrix = _load_recordio(files)
    else:
        raise AlgorithmError(f"Unknown data format {fmt}")
    if dmatrix.get_label().size == 0:
        raise UserError(NO_LABELS)
    return dmatrix


def _load_parquet(files: list[Path]) -> Any:
    """pyarrow tables (column 0 the label), stacked; no pandas needed."""
    try:
        import numpy as np
        import pyarrow.parquet as pq
        import xgboost as xgb

        arrays = []
        for file in files:
            table = pq.read_table(file)
            columns = [col.to_numpy(zero_copy_only=False).astype(np.float32) for col in table.columns]
            arrays.append(np.column_stack(columns) if columns else np.empty((0, 0), np.float32))
        data = np.vstack(arrays) if len(arrays) > 1 else arrays[0]
        return xgb.DMatrix(data[:, 1:], label=data[:, 0])
    except Exception as exc:
        raise UserError(f"Failed to load parquet data with exception:\n{exc}") from exc


def _load_recordio(files: list[Path]) -> Any:
    from .recordio import read_dmatrix

    try:
        return read_dmatrix(files)
    except Exception as exc:
        raise UserError(f"Failed to load recordio-protobuf data with exception:\n{exc}") from exc


def load_channels(train: Path, validation: Path | None, fmt: str, csv_weights: int = 0) -> tuple[Any, Any]:
    """(train DMatrix, validation DMatrix or None) in the container's order of checks."""
    train_size = channel_size(train)
    val_size = channel_size(validation) if validation is not None else 0
    for path, size in ((train, train_size), (validation, val_size)):
        if size > 0 and path is not None:
            check_format(data_files(path), fmt)
    if train_size == 0:
        raise UserError(f"No data in training channel path {train}")
    if validation is not None and val_size == 0:
        raise UserError(f"No data in validation channel path {validation}")
    dtrain = load_dmatrix(train, fmt, csv_weights)
    dval = load_dmatrix(validation, fmt) if validation is not None else None
    return dtrain, dval
