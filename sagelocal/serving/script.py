"""Script mode: the user's inference module (``SAGEMAKER_PROGRAM`` in the code directory) serves the model.

``model_fn(model_dir)`` runs once at start; each invocation runs ``transform_fn(model, body, content_type,
accept)`` if defined, else ``output_fn(predict_fn(input_fn(body, content_type), model), accept)``, with the
framework's defaults for omitted functions (:mod:`.script_defaults`).  json/csv bodies reach the user as str,
others as bytes; a missing Content-Type means application/json and a missing or ``*/*`` Accept means
``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` (default application/json).  An exception in user code is a 500 whose
body is the traceback's last line; the whole traceback goes to the log.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Any

from .config import ServingConfig
from .reply import EMPTY_OK, Reply, mimetype, text
from .script_defaults import JSON, UTF8_TYPES, Functions, UnsupportedFormat, functions, media_type

log = logging.getLogger("sagelocal.serving")


def last_line(exc: BaseException) -> str:
    """``ValueError: bad input``: the last line of the exception's traceback."""
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def import_program(code_dir: Path, program: str | None) -> Any:
    """Import the entry module ``program`` (``inference.py`` or ``inference``) from ``code_dir``."""
    if not program:
        raise RuntimeError("SAGEMAKER_PROGRAM is not set: script mode needs the inference script's file name")
    name = program[:-3] if program.endswith(".py") else program
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    return importlib.import_module(name)


def code_directory(model_dir: Path, code_dir: Path | None) -> Path:
    """``--code-dir``, else the model archive's ``code/`` directory (as the containers look), else the model dir."""
    if code_dir is not None:
        return code_dir
    inside = model_dir / "code"
    return inside if inside.is_dir() else model_dir


class ScriptHandler:
    """Serves a model through the user's handler functions."""

    def __init__(self, model_dir: Path, code_dir: Path | None, config: ServingConfig) -> None:
        self.default_accept = config.default_accept or JSON
        self.fns: Functions | None = None
        self.model: Any = None
        self.load_error = ""
        try:
            module = import_program(code_directory(model_dir, code_dir), config.program)
            fns = functions(module, config.framework)
            log.info("Loading the model from %s with %s", model_dir, _qualname(fns.model_fn))
            self.model = fns.model_fn(str(model_dir))
            self.fns = fns
            log.info("Model loaded successfully: %s", type(self.model).__name__)
        except Exception as exc:
            log.exception("Unable to load model")
            self.load_error = last_line(exc)

    def ping(self) -> Reply:
        return EMPTY_OK if self.fns is not None else text(500, f"Unable to load model: {self.load_error}")

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> Reply:
        fns = self.fns
        if fns is None:
            return text(500, f"Unable to load model: {self.load_error}")
        content_type = content_type or JSON
        if not accept or accept.strip() == "*/*":
            accept = self.default_accept
        data: str | bytes = body
        if media_type(content_type) in UTF8_TYPES:
            with contextlib.suppress(UnicodeDecodeError):
                data = body.decode("utf-8")
        try:
            if fns.transform_fn is not None:
                result = fns.transform_fn(self.model, data, content_type, accept)
            else:
                result = fns.output_fn(fns.predict_fn(fns.input_fn(data, content_type), self.model), accept)
            payload, response_type = _response(result, accept)
        except UnsupportedFormat as exc:
            log.error("%s", exc)
            return text(415, str(exc))
        except Exception as exc:
            log.exception("Exception in the inference script")
            return text(500, last_line(exc))
        return Reply(200, payload, mimetype(response_type))


def _response(result: Any, accept: str) -> tuple[bytes, str]:
    """(body, content type) of what output_fn/transform_fn returned: bytes or str, optionally paired with
    its content type; anything else JSON-encoded."""
    response_type = accept
    if isinstance(result, tuple) and len(result) == 2:
        result, response_type = result
    if isinstance(result, str):
        return result.encode("utf-8"), response_type
    if isinstance(result, bytes | bytearray | memoryview):
        return bytes(result), response_type
    return json.dumps(result, default=lambda v: v.tolist()).encode(), response_type


def _qualname(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
