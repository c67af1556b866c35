"""The replica's configuration, read from the environment the platform sets from the model's container."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sagelocal.algorithms.xgboost.versions import DEFAULT_VERSION, normalize_version

log = logging.getLogger("sagelocal.serving")

#: Flask's ``MAX_CONTENT_LENGTH`` in the container: the env value, default 6 MiB, never above 20 MiB.
DEFAULT_MAX_CONTENT_LENGTH = 6 * 1024 * 1024
MAX_PAYLOAD_CAP = 20 * 1024 * 1024
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ServingConfig:
    """What the model server reads from its environment."""

    mode: str = "xgboost"  # "xgboost" (built-in algorithm) or "script"
    version: str = DEFAULT_VERSION  # normalized sagemaker-xgboost version, "1" for the legacy image
    framework: str = "xgboost"  # script mode: "xgboost" or "sklearn"
    program: str | None = None  # SAGEMAKER_PROGRAM
    batch: bool = False  # SAGEMAKER_BATCH set (to anything non-empty, as the container tests it)
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    default_accept: str | None = None  # SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, verbatim
    inference_output: str | None = None  # SAGEMAKER_INFERENCE_OUTPUT (present even when empty)
    ensemble: bool = True  # SAGEMAKER_INFERENCE_ENSEMBLE, default "true"
    timeout: float = DEFAULT_TIMEOUT  # SAGEMAKER_MODEL_SERVER_TIMEOUT, seconds

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServingConfig:
        """Read the configuration; malformed numbers fall back to the container defaults with a warning."""
        env = os.environ if env is None else env
        mode = (env.get("SAGELOCAL_SERVING_MODE") or "xgboost").strip().lower()
        if mode not in ("xgboost", "script"):
            log.warning("Unknown SAGELOCAL_SERVING_MODE %r; serving the built-in XGBoost algorithm", mode)
            mode = "xgboost"
        try:
            version = normalize_version(env.get("SAGELOCAL_XGBOOST_VERSION"))
        except ValueError as exc:
            log.warning("%s; serving as %s", exc, DEFAULT_VERSION)
            version = DEFAULT_VERSION
        return cls(
            mode=mode,
            version=version,
            framework=(env.get("SAGELOCAL_SERVING_FRAMEWORK") or "xgboost").strip().lower(),
            program=env.get("SAGEMAKER_PROGRAM") or None,
            batch=bool(env.get("SAGEMAKER_BATCH")),
            max_content_length=min(
                _number(env, "MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH, int), MAX_PAYLOAD_CAP
            ),
            default_accept=env.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or None,
            inference_output=env.get("SAGEMAKER_INFERENCE_OUTPUT"),
            ensemble=(env.get("SAGEMAKER_INFERENCE_ENSEMBLE") or "true").strip().lower() == "true",
            timeout=_number(env, "SAGEMAKER_MODEL_SERVER_TIMEOUT", DEFAULT_TIMEOUT, float),
        )


def _number(env: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        log.warning("Ignoring %s=%r (not a number); using %s", name, raw, default)
        return default
