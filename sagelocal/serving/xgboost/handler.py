"""The algorithm container's ``/ping`` and ``/invocations`` (contract §4), in its order of checks:
empty body 204 → decode 415 → model 500 → predict 400 → Accept 406 → encode."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sagelocal.algorithms.xgboost.versions import LEGACY, version_key

from ..config import ServingConfig
from ..reply import EMPTY_OK, NO_CONTENT, Reply, mimetype, text, werkzeug_error
from . import encode, selectable
from .decode import DecodeError, decode, request_format
from .model import Model, load_model

log = logging.getLogger("sagelocal.serving")

CSV_TYPE = mimetype("text/csv")
_FORMATS: dict[str | None, str] = {}  # Content-Type header → format, for the ones seen before


def _format(content_type: str | None) -> str:
    fmt = _FORMATS.get(content_type)
    if fmt is None:
        fmt = request_format(content_type)
        if len(_FORMATS) < 64:
            _FORMATS[content_type] = fmt
    return fmt


class XGBoostHandler:
    """Serves one model directory as the built-in XGBoost image of ``config.version`` does."""

    def __init__(self, model_dir: Path, config: ServingConfig) -> None:
        self.config = config
        self.legacy = config.version == LEGACY
        self.shift_libsvm = version_key(config.version) >= (3, 2, 0)  # HEAD's 1-based libsvm shift
        self.keys = selectable.selected_keys(config.inference_output) if self._selectable else []
        self.model: Model | None = None
        self.load_error = ""
        try:
            self.model = load_model(model_dir, config.ensemble)
            log.info(
                "Model loaded successfully: %d booster(s), objective %s, %d features",
                len(self.model.boosters), self.model.objective, self.model.num_features,
            )  # fmt: skip
        except Exception as exc:
            log.exception("Unable to load model")
            self.load_error = str(exc)

    @property
    def _selectable(self) -> bool:
        return self.config.inference_output is not None and self.config.version != LEGACY

    def ping(self) -> Reply:
        """200 when the model is loaded, else 500 with the reason."""
        return EMPTY_OK if self.model is not None else text(500, f"Unable to load model: {self.load_error}")

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> Reply:
        """One ``POST /invocations``."""
        if not body:
            return NO_CONTENT
        try:
            fmt = _format(content_type)
            data = decode(body, fmt, self.shift_libsvm)
        except DecodeError as exc:
            log.error("%s", exc)
            return text(415, str(exc))
        model = self.model
        if model is None:
            return text(500, f"Unable to load model: {self.load_error}")
        try:
            preds = model.predict(data, fmt)
        except Exception as exc:
            log.exception("Unable to evaluate payload")
            return text(400, f"Unable to evaluate payload provided: {exc}")
        if self.legacy:
            out = encode.batch_lines(preds) if self.config.batch else encode.legacy_line(preds)
            return Reply(200, out, CSV_TYPE)
        try:
            accept = encode.parse_accept(accept, self.config.default_accept)
        except encode.NotAcceptable as exc:
            log.error("%s", exc)
            return text(406, str(exc))
        if self._selectable:
            return self._selected(preds, model, accept)
        if self.config.batch:
            return Reply(200, encode.batch_lines(preds), mimetype(accept))
        if accept == "text/csv":
            return Reply(200, encode.csv_rows(preds), CSV_TYPE)
        if accept == "application/json":
            return Reply(200, encode.json_scores(preds), "application/json")
        # jsonlines/recordio without selectable output: the container fails unhandled (its bug)
        log.error("Cannot encode predictions as %s without SAGEMAKER_INFERENCE_OUTPUT", accept)
        return werkzeug_error(500)

    def _selected(self, preds: Any, model: Model, accept: str) -> Reply:
        try:
            content = selectable.select(preds, self.keys, model.objective, model.num_class)
            out = selectable.encode(content, self.keys, accept, self.config.batch)
        except Exception as exc:
            log.exception("Selectable inference output failed")
            return text(500, str(exc))
        return Reply(200, out, mimetype(accept))
