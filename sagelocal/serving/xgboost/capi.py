"""Dense prediction straight through XGBoost's C API (``XGBoosterPredictFromDense``).

``Booster.inplace_predict`` spends most of a one-row call in Python (argument JSON, type checks, output
wrapping); calling the same C function with a prebuilt configuration halves a one-row prediction.  The result
is the same function's output, copied out of XGBoost's per-thread buffer at once.  Not thread-safe: a
replica calls it from its event-loop thread only.  Any failure returns None and the caller falls back to
``inplace_predict``, which raises XGBoost's own error.
"""

from __future__ import annotations

import ctypes
import json
import logging
from typing import Any

import numpy as np

log = logging.getLogger("sagelocal.serving")

#: inplace_predict's arguments: value prediction, all trees, NaN is missing.
_CONFIG = json.dumps(
    {
        "type": 0,
        "training": False,
        "iteration_begin": 0,
        "iteration_end": 0,
        "missing": float("nan"),
        "strict_shape": False,
        "cache_id": 0,
    }
).encode()
_INTERFACE = b'{"data":[%d,false],"shape":[%d,%d],"strides":null,"typestr":"<f8","version":3}'


class DensePredictor:
    """``booster.inplace_predict(x)`` for a C-contiguous float64 matrix ``x``."""

    def __init__(self, booster: Any) -> None:
        from xgboost.core import _LIB  # the library the xgboost package already loaded

        self._booster = booster  # keeps the handle alive
        self._handle = booster.handle
        self._predict = _LIB.XGBoosterPredictFromDense
        self._shape = ctypes.POINTER(ctypes.c_uint64)()
        self._dims = ctypes.c_uint64()
        self._preds = ctypes.POINTER(ctypes.c_float)()
        self._refs = (ctypes.byref(self._shape), ctypes.byref(self._dims), ctypes.byref(self._preds))
        self._proxy = ctypes.c_void_p()

    def __call__(self, x: np.ndarray) -> np.ndarray | None:
        interface = _INTERFACE % (x.ctypes.data, x.shape[0], x.shape[1])
        if self._predict(self._handle, interface, _CONFIG, self._proxy, *self._refs) != 0:
            return None
        shape = tuple(self._shape[i] for i in range(self._dims.value))
        out = np.empty(shape, dtype=np.float32)
        ctypes.memmove(out.ctypes.data, self._preds, out.nbytes)
        return out


def dense_predictor(booster: Any) -> DensePredictor | None:
    """A DensePredictor for ``booster``, or None when this XGBoost build does not offer the call."""
    try:
        return DensePredictor(booster)
    except Exception as exc:  # an XGBoost without the C entry point: the Python wrapper serves
        log.info("Using Booster.inplace_predict (%s)", exc)
        return None
