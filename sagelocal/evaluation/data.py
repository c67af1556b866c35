"""Labelled CSV data on disk or in S3, S3 URIs, and feature rows as text/csv request bodies."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class S3Uri:
    """``s3://bucket/key`` split into its parts (the key may be empty or a prefix)."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        if not uri.startswith("s3://"):
            raise ValueError(f"not an S3 URI: {uri}")
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in S3 URI: {uri}")
        return cls(bucket, key)

    def join(self, name: str) -> S3Uri:
        """The key ``name`` under this one taken as a prefix."""
        prefix = self.key.strip("/")
        return S3Uri(self.bucket, f"{prefix}/{name}" if prefix else name)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_s3(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith("s3://")


def read_bytes(location: str | Path, s3_client: Any = None) -> bytes:
    """The bytes of a local file or an S3 object (``s3_client`` needed for the latter)."""
    if is_s3(location):
        if s3_client is None:
            raise ValueError(f"an S3 client is needed to read {location}")
        uri = S3Uri.parse(str(location))
        return bytes(s3_client.get_object(Bucket=uri.bucket, Key=uri.key)["Body"].read())
    return Path(location).expanduser().read_bytes()


def parse_labelled_csv(
    raw: bytes, label_column: int | str = 0, header: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of a CSV; ``label_column`` is a 0-based index, or a name with ``header``."""
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(raw), header=0 if header else None)
    if frame.empty:
        raise ValueError("the data has no rows")
    if isinstance(label_column, str) and not label_column.lstrip("-").isdigit():
        if not header:
            raise ValueError(f"label column {label_column!r} is a name: the data needs a header (--header)")
        if label_column not in frame.columns:
            raise ValueError(f"no column {label_column!r} in the header")
        position = list(frame.columns).index(label_column)
    else:
        position = int(label_column)
        if not -frame.shape[1] <= position < frame.shape[1]:
            raise ValueError(
                f"label column {position} is out of range: the data has {frame.shape[1]} columns"
            )
        position %= frame.shape[1]
    try:
        values = frame.to_numpy(dtype=float)
    except ValueError as exc:
        raise ValueError(f"the data is not all numeric ({exc}); a header row needs --header") from None
    labels = values[:, position]
    features = np.delete(values, position, axis=1)
    return features, labels


def load_labelled_csv(
    location: str | Path, label_column: int | str = 0, header: bool = False, s3_client: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of a labelled CSV at a local path or ``s3://`` URI."""
    return parse_labelled_csv(read_bytes(location, s3_client), label_column, header)


def csv_body(features: np.ndarray) -> bytes:
    """Rows as text/csv, one line each, values printed exactly (``repr``); NaN is an empty field."""
    lines = (",".join("" if v != v else repr(v) for v in row) for row in np.asarray(features, float).tolist())
    return ("\n".join(lines) + "\n").encode()
