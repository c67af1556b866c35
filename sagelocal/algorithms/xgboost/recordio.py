"""SageMaker's RecordIO-protobuf training format, read without a protobuf runtime.

A file is a sequence of RecordIO frames: a little-endian uint32 magic ``0xCED7230A``, a uint32 whose low 29
bits are the payload length (the top 3 bits a continuation flag), the payload, then padding to 4 bytes.
Each payload is an ``aialgs.data.Record``: ``map<string, Value> features = 1`` and ``label = 2``, where a
``Value`` holds a ``float32_tensor = 2`` / ``float64_tensor = 3`` / ``int32_tensor = 7``, each tensor having
``values = 1``, ``keys = 2`` (sparse indices) and ``shape = 3``.  Features are ``features["values"]``,
labels ``label["values"]``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MAGIC = 0xCED7230A
_LENGTH_MASK = (1 << 29) - 1
_TENSOR_FIELDS = {2: "f4", 3: "f8", 7: "i4"}  # Value field number → numpy dtype of its values


def frames(blob: bytes) -> Iterator[bytes]:
    """Payloads of the RecordIO frames in ``blob`` (multi-part records are joined)."""
    pos, parts = 0, []
    while pos < len(blob):
        if len(blob) - pos < 8:
            raise ValueError(f"truncated RecordIO header at byte {pos}")
        magic, word = struct.unpack_from("<II", blob, pos)
        if magic != MAGIC:
            raise ValueError(f"invalid RecordIO magic {magic:#x} at byte {pos}")
        length, cflag = word & _LENGTH_MASK, word >> 29
        start = pos + 8
        if start + length > len(blob):
            raise ValueError(f"truncated RecordIO record at byte {pos}")
        parts.append(blob[start : start + length])
        pos = start + ((length + 3) & ~3)
        if cflag in (0, 3):  # a whole record, or the last part of one
            yield b"".join(parts)
            parts = []


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a protobuf message; length-delimited values as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _repeated(chunks: list[tuple[int, Any]], dtype: str) -> Any:
    """Packed (wire 2) or unpacked repeated scalars → numpy array."""
    import numpy as np

    if dtype == "u8":  # varints: keys and shape
        out: list[int] = []
        for wire, value in chunks:
            if wire == 2:
                pos = 0
                while pos < len(value):
                    item, pos = _varint(value, pos)
                    out.append(item)
            else:
                out.append(value)
        return np.array(out, dtype=np.int64)
    if dtype == "i4":
        return _repeated(chunks, "u8").astype(np.int64).astype(np.int32)
    raw = b"".join(value for _, value in chunks)
    return np.frombuffer(raw, dtype="<" + dtype)


def parse_tensor(value_msg: bytes) -> tuple[Any, Any, Any]:
    """A ``Value`` message → (values, keys, shape); keys/shape may be empty."""
    for number, _, tensor in fields(value_msg):
        if number in _TENSOR_FIELDS:
            parts: dict[int, list[tuple[int, Any]]] = {1: [], 2: [], 3: []}
            for n, wire, v in fields(tensor):
                if n in parts:
                    parts[n].append((wire, v))
            return (
                _repeated(parts[1], _TENSOR_FIELDS[number]),
                _repeated(parts[2], "u8"),
                _repeated(parts[3], "u8"),
            )
    raise ValueError("Value holds no float32, float64 or int32 tensor")


def parse_record(payload: bytes) -> dict[str, dict[str, tuple[Any, Any, Any]]]:
    """A ``Record`` → {"features": {name: tensor}, "label": {name: tensor}}."""
    out: dict[str, dict[str, tuple[Any, Any, Any]]] = {"features": {}, "label": {}}
    for number, _, entry in fields(payload):
        if number not in (1, 2):
            continue
        key, value = "", b""
        for n, _, v in fields(entry):
            if n == 1:
                key = v.decode()
            elif n == 2:
                value = v
        out["features" if number == 1 else "label"][key] = parse_tensor(value)
    return out


def read_dmatrix(files: list[Path]) -> Any:
    """All records of ``files`` → ``xgboost.DMatrix`` (dense, or CSR when the features are sparse)."""
    import numpy as np
    import xgboost as xgb

    rows, labels, sparse = [], [], False
    for file in files:
        for payload in frames(file.read_bytes()):
            record = parse_record(payload)
            values, keys, shape = record["features"]["values"]
            sparse = sparse or keys.size > 0
            rows.append((values.astype(np.float32), keys, shape))
            if "values" in record["label"]:
                labels.append(record["label"]["values"][0].astype(np.float32))
    if not rows:
        raise ValueError("no records found")
    label = np.concatenate(labels) if labels else np.empty(0, dtype=np.float32)
    if not sparse:
        return xgb.DMatrix(np.vstack([v.reshape(1, -1) for v, _, _ in rows]), label=label)
    from scipy.sparse import csr_matrix

    width = max(int(s[-1]) if s.size else (int(k.max()) + 1 if k.size else 0) for _, k, s in rows)
    indptr = np.cumsum([0] + [k.size for _, k, _ in rows])
    data = np.concatenate([v for v, _, _ in rows])
    indices = np.concatenate([k if k.size or not v.size else np.arange(v.size) for v, k, _ in rows])
    return xgb.DMatrix(csr_matrix((data, indices, indptr), shape=(len(rows), width)), label=label)
