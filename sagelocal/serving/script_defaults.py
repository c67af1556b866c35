"""The framework containers' default handler functions, used where the user's inference module omits one.

Decoders (``application/json``, ``text/csv``, ``application/x-npy`` → numpy) and encoders (numpy → the same
three types) follow the SageMaker inference toolkits.  The XGBoost framework's defaults load the model
directory's first model file and decode csv/libsvm/recordio-protobuf (and json/npy) into a ``DMatrix``;
scikit-learn has no default ``model_fn``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
UTF8_TYPES = (JSON, CSV)  # bodies of these types reach input_fn as str, others as bytes


class UnsupportedFormat(Exception):
    """A default decoder/encoder was asked for a type it does not know (415)."""

    def __init__(self, content_type: str) -> None:
        super().__init__(
            f"Content type {content_type} is not supported by this framework.\n\n"
            "Please implement input_fn to deserialize the request data or an output_fn to serialize the "
            "response."
        )


def media_type(value: str | None) -> str:
    """``"text/csv; charset=utf-8"`` → ``"text/csv"``."""
    return (value or "").split(";", 1)[0].strip().lower()


def decode(data: str | bytes, content_type: str) -> np.ndarray:
    """A json/csv/npy body → numpy array; UnsupportedFormat for anything else."""
    kind = media_type(content_type)
    if kind == JSON:
        return np.array(json.loads(data))
    if kind == CSV:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return np.genfromtxt(io.StringIO(text), delimiter=",")
    if kind == NPY:
        raw = data.encode() if isinstance(data, str) else data
        return np.load(io.BytesIO(raw), allow_pickle=True)
    raise UnsupportedFormat(content_type)


def _to_list(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode(prediction: Any, accept: str) -> bytes:
    """A prediction → json (``tolist``), csv (one row per line) or npy bytes; UnsupportedFormat otherwise."""
    kind = media_type(accept)
    if kind == JSON:
        return json.dumps(prediction, default=_to_list).encode()
    if kind == CSV:
        stream = io.StringIO()
        np.savetxt(stream, np.atleast_1d(np.asarray(prediction)), delimiter=",", fmt="%s")
        return stream.getvalue().encode()
    if kind == NPY:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(prediction))
        return buffer.getvalue()
    raise UnsupportedFormat(accept)


def sklearn_model_fn(model_dir: str) -> Any:
    raise NotImplementedError(
        "Please provide a model_fn implementation in the inference script: the scikit-learn container has "
        "no default model_fn (see the SageMaker Python SDK documentation of model_fn)."
    )


def sklearn_input_fn(data: str | bytes, content_type: str) -> np.ndarray:
    array = decode(data, content_type)
    return array.astype(np.float32) if media_type(content_type) in UTF8_TYPES else array


def sklearn_predict_fn(data: Any, model: Any) -> Any:
    return model.predict(data)


def xgboost_model_fn(model_dir: str) -> Any:
    """The first model file of the directory (pickle, then ``Booster.load_model``), nthread=1."""
    from .xgboost.model import load_booster, model_files

    files = model_files(Path(model_dir))
    if not files:
        raise RuntimeError(f"No model file found in {model_dir}")
    return load_booster(files[0])[0]


def xgboost_input_fn(data: str | bytes, content_type: str) -> Any:
    """csv/libsvm/recordio-protobuf as the algorithm reads them, json/npy as numpy; all into a DMatrix."""
    import xgboost as xgb

    from .xgboost.decode import DecodeError, request_format
    from .xgboost.decode import decode as decode_features

    kind = media_type(content_type)
    if kind in (JSON, NPY):
        return xgb.DMatrix(np.atleast_2d(decode(data, content_type)))
    raw = data.encode() if isinstance(data, str) else data
    try:
        fmt = request_format(content_type)
    except DecodeError:
        raise UnsupportedFormat(content_type) from None
    return xgb.DMatrix(decode_features(raw, fmt))


def xgboost_predict_fn(data: Any, model: Any) -> Any:
    import xgboost as xgb

    if isinstance(model, xgb.Booster):
        matrix = data if isinstance(data, xgb.DMatrix) else xgb.DMatrix(data)
        return model.predict(matrix, validate_features=False)
    return model.predict(data)


def output_fn(prediction: Any, accept: str) -> bytes:
    return encode(prediction, accept)


@dataclass(frozen=True)
class Functions:
    """The handler functions in effect: the user's where defined, else the framework's defaults."""

    model_fn: Callable[[str], Any]
    input_fn: Callable[[Any, str], Any]
    predict_fn: Callable[[Any, Any], Any]
    output_fn: Callable[[Any, str], Any]
    transform_fn: Callable[[Any, Any, str, str], Any] | None = None


_DEFAULTS = {
    "sklearn": (sklearn_model_fn, sklearn_input_fn, sklearn_predict_fn),
    "xgboost": (xgboost_model_fn, xgboost_input_fn, xgboost_predict_fn),
}


def functions(module: Any, framework: str) -> Functions:
    """The handler functions for ``module`` under ``framework`` (``xgboost`` or ``sklearn``)."""
    model_fn, input_fn, predict_fn = _DEFAULTS.get(framework, _DEFAULTS["xgboost"])
    return Functions(
        model_fn=getattr(module, "model_fn", model_fn),
        input_fn=getattr(module, "input_fn", input_fn),
        predict_fn=getattr(module, "predict_fn", predict_fn),
        output_fn=getattr(module, "output_fn", output_fn),
        transform_fn=getattr(module, "transform_fn", None),
    )
