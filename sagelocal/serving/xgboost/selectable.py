"""Selectable inference output (``SAGEMAKER_INFERENCE_OUTPUT``, contract §4): per-record content keys,
encoded as CSV, JSON, JSON Lines or RecordIO-protobuf.

Keys the objective cannot give come back as NaN (with a warning in the log); an objective outside the table
is an error: ``Objective `count:poisson` unsupported for selectable inference predictions.``
"""

from __future__ import annotations

import json
import logging
import math
import struct
from typing import Any

import numpy as np

from sagelocal.algorithms.xgboost.recordio import MAGIC

log = logging.getLogger("sagelocal.serving")

PREDICTED_LABEL, LABELS, PROBABILITY, PROBABILITIES = (
    "predicted_label",
    "labels",
    "probability",
    "probabilities",
)
RAW_SCORE, RAW_SCORES, PREDICTED_SCORE = "raw_score", "raw_scores", "predicted_score"
KEY_ORDER = (PREDICTED_LABEL, LABELS, PROBABILITY, PROBABILITIES, RAW_SCORE, RAW_SCORES, PREDICTED_SCORE)
_CLASSIFICATION = [PREDICTED_LABEL, LABELS, PROBABILITY, PROBABILITIES, RAW_SCORE, RAW_SCORES]
_LABEL_ONLY = [PREDICTED_LABEL, LABELS, RAW_SCORE, RAW_SCORES]
VALID_KEYS: dict[str, list[str]] = {
    "reg:squarederror": [PREDICTED_SCORE],
    "reg:logistic": [PREDICTED_SCORE],
    "reg:gamma": [PREDICTED_SCORE],
    "reg:absoluteerror": [PREDICTED_SCORE],
    "reg:tweedie": [PREDICTED_SCORE],
    "binary:logistic": _CLASSIFICATION,
    "binary:logitraw": _LABEL_ONLY,
    "binary:hinge": _LABEL_ONLY,
    "multi:softmax": _LABEL_ONLY,
    "multi:softprob": _CLASSIFICATION,
}


def selected_keys(env_value: str) -> list[str]:
    """``"Predicted_Label, probabilities"`` → ``["predicted_label", "probabilities"]`` (env-var order)."""
    return env_value.replace(" ", "").lower().split(",")


def _value(key: str, objective: str, pred: Any, num_class: str) -> Any:
    """One key's value for one record (``pred``: a numpy scalar, or a row for multi:softprob)."""
    if key == LABELS:
        if objective.startswith("binary:"):
            return [0, 1]
        return list(range(int(num_class))) if num_class else math.nan
    if key == PREDICTED_SCORE:
        return pred.item()
    if objective == "multi:softprob":
        if key == PREDICTED_LABEL:
            return int(np.argmax(pred))
        if key in (PROBABILITY, RAW_SCORE):
            return pred.max().item()
        return pred.tolist()  # probabilities, raw_scores
    if key == PREDICTED_LABEL:
        if objective == "binary:logistic":
            return int(pred > 0.5)
        if objective == "binary:logitraw":
            return int(pred > 0)
        return pred.item()  # binary:hinge, multi:softmax: the prediction is the label
    score = pred.item()
    return score if key in (PROBABILITY, RAW_SCORE) else [1.0 - score, score]


def select(preds: np.ndarray, keys: list[str], objective: str, num_class: str = "") -> list[dict[str, Any]]:
    """The selected content of every record, keys in the container's fixed order, invalid keys NaN last."""
    if objective not in VALID_KEYS:
        raise ValueError(f"Objective `{objective}` unsupported for selectable inference predictions.")
    valid = [k for k in KEY_ORDER if k in keys and k in VALID_KEYS[objective]]
    invalid = [k for k in dict.fromkeys(keys) if k not in VALID_KEYS[objective]]
    if invalid:
        log.warning(
            "Selected key(s) %s incompatible for objective '%s'. Please use list of compatible selectable "
            "inference predictions: %s", set(invalid), objective, VALID_KEYS[objective],
        )  # fmt: skip
    content = []
    for pred in preds:
        row = {k: _value(k, objective, pred, num_class) for k in valid}
        row.update(dict.fromkeys(invalid, math.nan))
        content.append(row)
    return content


def to_csv(content: list[dict[str, Any]], keys: list[str], batch: bool = False) -> bytes:
    """One line per record in the env var's key order, lists quoted (``"[0.1, 0.9]"``); no final newline
    in real time, one in batch."""
    lines = (
        ",".join(f'"{row[k]}"' if isinstance(row[k], list) else str(row[k]) for k in keys) for row in content
    )
    text = "\n".join(lines)
    return (text + "\n" if batch else text).encode()


def to_json(content: list[dict[str, Any]]) -> bytes:
    """``{"predictions": [...]}`` (NaN printed as the ``NaN`` literal, as Python's json does)."""
    return json.dumps({"predictions": content}).encode()


def to_jsonlines(content: list[dict[str, Any]]) -> bytes:
    """One JSON object per line."""
    return "".join(json.dumps(row) + "\n" for row in content).encode()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def record(label: dict[str, Any]) -> bytes:
    """An ``aialgs.data.Record`` whose ``label`` map holds each value as a float32 tensor."""
    out = bytearray()
    for key, value in label.items():
        values = value if isinstance(value, list) else [value]
        tensor = _field(1, struct.pack(f"<{len(values)}f", *values)) if values else b""
        entry = _field(1, key.encode()) + _field(2, _field(2, tensor))  # key; Value.float32_tensor
        out += _field(2, entry)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    """One RecordIO frame: magic, length, payload, zero padding to 4 bytes."""
    return struct.pack("<II", MAGIC, len(payload)) + payload + b"\0" * (-len(payload) % 4)


def to_recordio(content: list[dict[str, Any]]) -> bytes:
    """One RecordIO-protobuf record per prediction."""
    return b"".join(frame(record(row)) for row in content)


def encode(content: list[dict[str, Any]], keys: list[str], accept: str, batch: bool = False) -> bytes:
    """Selected content in the Accept type; RuntimeError for a type it cannot produce."""
    if accept == "application/json":
        return to_json(content)
    if accept == "application/jsonlines":
        return to_jsonlines(content)
    if accept == "application/x-recordio-protobuf":
        return to_recordio(content)
    if accept == "text/csv":
        return to_csv(content, keys, batch)
    raise RuntimeError(f"Cannot encode selected predictions into accept type '{accept}'.")
