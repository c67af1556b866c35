"""Predictions → response bodies, and the Accept header, as the algorithm container formats them.

Values are printed as Python floats of the float32 predictions (``0.8824821710586548``).
"""

from __future__ import annotations

import json

import numpy as np

SUPPORTED_ACCEPTS = [
    "application/json",
    "application/jsonlines",
    "application/x-recordio-protobuf",
    "text/csv",
]
DEFAULT_ACCEPT = "text/csv"


class NotAcceptable(Exception):
    """The Accept header names a type the container cannot produce (406 with this text)."""


def parse_accept(header: str | None, default: str | None) -> str:
    """The response type: the header's media type (parameters dropped, lower-cased); a missing header or
    ``*/*`` means ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` (default text/csv), taken as is."""
    accept = (header or "").split(";", 1)[0].strip()
    if not accept or accept == "*/*":
        return default or DEFAULT_ACCEPT
    lowered = accept.lower()
    if lowered not in SUPPORTED_ACCEPTS:
        raise NotAcceptable(
            f"Accept type {accept} is not supported. Please use supported accept types: {SUPPORTED_ACCEPTS}."
        )
    return lowered


def csv_rows(preds: np.ndarray) -> bytes:
    """text/csv: one newline-terminated line per record; a multiclass record's scores comma-joined."""
    values = preds.tolist()
    if preds.ndim == 1:
        return ("\n".join(map(str, values)) + "\n").encode()
    return "".join(",".join(map(str, row)) + "\n" for row in values).encode()


def json_scores(preds: np.ndarray) -> bytes:
    """application/json: ``{"predictions": [{"score": 0.9}, {"score": [0.1, 0.8, 0.1]}]}``."""
    return json.dumps({"predictions": [{"score": p} for p in preds.tolist()]}).encode()


def batch_lines(preds: np.ndarray) -> bytes:
    """Batch mode (``SAGEMAKER_BATCH``), whatever the Accept: ``str`` of each record, one per line."""
    return ("\n".join(map(str, preds.tolist())) + "\n").encode()


def legacy_line(preds: np.ndarray) -> bytes:
    """The legacy ``xgboost:1`` image in real time: all records on ONE comma-separated line."""
    return ",".join(map(str, preds.tolist())).encode()
