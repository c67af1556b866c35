"""Algorithm-mode training: the built-in XGBoost container's ``train``, run inside a job workspace.

The workspace is laid out like ``/opt/ml``.  On success ``model/xgboost-model``, ``output/success`` and
``output/metrics.json`` (final metric name → value) are written and the exit code is 0; on failure
``output/failure`` holds ``ClientError: ...`` or ``AlgorithmError: ...`` and the exit code is 1.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import data
from .errors import AlgorithmError, UserError, XGBoostJobError
from .hyperparameters import TrainConfig, train_config
from .metrics import custom_metric_function, is_maximize, split_eval_metrics
from .versions import LEGACY, model_is_pickled, normalize_version, version_key

log = logging.getLogger("sagelocal.algorithms.xgboost")

#: Substrings of XGBoost errors the container reports as the user's fault, with the 1.x wording to show.
CUSTOMER_ERRORS: dict[str, str] = {
    "label must be in [0,1] for logistic regression": "label must be in [0,1] for logistic regression",
    "label must be in (0, 1) for logistic regression": "label must be in [0,1] for logistic regression",
    "label must be in [0, num_class)": "SoftmaxMultiClassObj: label must be in [0, num_class).",
    "label must be discrete values in the range of [0, num_class)": (
        "SoftmaxMultiClassObj: label must be in [0, num_class)."
    ),
    "label must be non-negative": "label must be nonnegative",
    "label must be nonnegative": "label must be nonnegative",
    "feature_names mismatch": "feature_names mismatch",
    "Check failed: preds.size() == info.labels_.size()": "Check failed: preds.size() == info.labels_.size()",
    "base_score must be in (0,1)": "base_score must be in (0,1) for logistic loss",
    "base_score` must be greater than 0": "base_score must be greater than 0",
    "Parameter reg_lambda should be greater equal to 0": "Parameter reg_lambda should be greater equal to 0",
}


@dataclass
class Workspace:
    """Paths of one job's ``/opt/ml``-style directory (overridable by the SM_* environment)."""

    root: Path

    def path(self, env: str, *default: str) -> Path:
        return Path(os.environ[env]) if os.environ.get(env) else self.root.joinpath(*default)

    @property
    def config_dir(self) -> Path:
        return self.path("SM_INPUT_CONFIG_DIR", "input", "config")

    def channel(self, name: str) -> Path:
        return self.path(f"SM_CHANNEL_{name.upper()}", "input", "data", name)

    @property
    def model_dir(self) -> Path:
        return self.path("SM_MODEL_DIR", "model")

    @property
    def output_dir(self) -> Path:
        return self.path("SM_OUTPUT_DIR", "output")

    def read_json(self, name: str, default: Any) -> Any:
        file = self.config_dir / name
        return json.loads(file.read_text()) if file.exists() else default


def _fmt(value: float, version: str) -> str:
    """XGBoost ≥ 1.3 prints ``%.5f``; older releases printed ``%g``."""
    return f"{value:.5f}" if version_key(version) >= (1, 3, 0) else f"{value:g}"


class _Monitor:
    """Prints ``[i]\\ttrain-m:v\\tvalidation-m:v`` per round (CloudWatch shows tabs as ``#011``) and keeps
    the last values for ``metrics.json``."""

    def __init__(self, version: str, save_to: Path | None = None) -> None:
        self.version, self.save_to = version, save_to
        self.last: dict[str, float] = {}

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, dict[str, list[float]]]) -> bool:
        parts, row = [f"[{epoch}]"], {}
        for data_name, metrics in evals_log.items():
            for metric, values in metrics.items():
                value = float(values[-1][0] if isinstance(values[-1], tuple) else values[-1])
                parts.append(f"{data_name}-{metric}:{_fmt(value, self.version)}")
                row[f"{data_name}:{metric}"] = value
        print("\t".join(parts), flush=True)
        self.last = row
        if self.save_to is not None:  # save_model_on_termination: the model so far survives a stop
            save_model(model, self.save_to, self.version)
        return False


def _callback(monitor: _Monitor) -> Any:
    import xgboost as xgb

    class Callback(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            return monitor.after_iteration(model, epoch, evals_log)

    return Callback()


def _container_log(message: str) -> None:
    print(time.strftime("[%Y-%m-%d:%H:%M:%S:INFO] ") + message, flush=True)


def early_stopping(cfg: TrainConfig, has_validation: bool) -> list[Any]:
    """The container's early stopping on the validation channel, if asked for and possible."""
    import xgboost as xgb

    if not (cfg.early_stopping_rounds and has_validation and cfg.eval_metrics):
        return []
    watched = cfg.stop_metric or cfg.eval_metrics[-1]
    return [xgb.callback.EarlyStopping(
        rounds=cfg.early_stopping_rounds, metric_name=watched, data_name="validation",
        maximize=is_maximize(watched), save_best=True,
    )]  # fmt: skip


def train_failure(exc: Exception) -> XGBoostJobError:
    """What a failed ``xgboost.train`` is reported as: the user's known mistakes, else the algorithm's."""
    text = str(exc).split("\nStack trace:")[0]
    for needle, message in CUSTOMER_ERRORS.items():
        if needle in text:
            return UserError(message)
    return AlgorithmError(f"XGB train call failed with exception:\n {text}")


def run_training(
    cfg: TrainConfig, dtrain: Any, dval: Any, version: str, model_dir: Path | None = None
) -> tuple[Any, _Monitor]:
    """``xgboost.train`` with the container's watchlist, metrics, early stopping and log lines."""
    import xgboost as xgb

    params = dict(cfg.params)
    native, custom = split_eval_metrics(cfg.eval_metrics)
    if native:
        params["eval_metric"] = native
    evals = [(dtrain, "train")] + ([(dval, "validation")] if dval is not None else [])
    monitor = _Monitor(version, model_dir if cfg.save_model_on_termination else None)
    if cfg.save_model_on_termination:  # as the container: on SIGTERM keep the saved model and exit 0
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    callbacks = [_callback(monitor)]  # first: xgboost stops calling callbacks once one says "stop"
    callbacks += early_stopping(cfg, dval is not None)
    custom_fn = custom_metric_function(custom, params.get("objective", "")) if custom else None
    try:
        booster = xgb.train(
            params, dtrain, num_boost_round=cfg.num_round, evals=evals, custom_metric=custom_fn,
            callbacks=callbacks, verbose_eval=False,
        )  # fmt: skip
    except Exception as exc:
        raise train_failure(exc) from exc
    return booster, monitor


def save_model(booster: Any, model_dir: Path, version: str) -> Path:
    """``xgboost-model`` as the image writes it: a pickle before 1.3-1 (and legacy), ``save_model`` after."""
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / "xgboost-model"
    if model_is_pickled(version):
        import pickle

        tmp = model_dir / ".xgboost-model.tmp"
        tmp.write_bytes(pickle.dumps(booster, protocol=4))
    else:  # UBJSON, as the 3.0-5 image writes for a name without extension (serving loads either)
        tmp = model_dir / ".xgboost-model.ubj"
        booster.save_model(str(tmp))
    tmp.replace(target)
    return target


def train(workspace: Path, version: str | None = None) -> dict[str, float]:
    """Run one training job in ``workspace``; return the final metrics.  Raises XGBoostJobError."""
    ws = Workspace(workspace)
    version = normalize_version(version or os.environ.get("SAGELOCAL_XGBOOST_VERSION"))
    raw = ws.read_json("hyperparameters.json", {})
    cfg = train_config(raw, version)
    channels = data.validate_channels(ws.read_json("inputdataconfig.json", {}), legacy=version == LEGACY)
    fmt = data.content_format(channels["train"].get("ContentType"))
    for note in cfg.notes:
        _container_log(note)
    val_path = ws.channel("validation") if "validation" in channels else None
    dtrain, dval = data.load_channels(ws.channel("train"), val_path, fmt, cfg.csv_weights)
    hosts = ws.read_json("resourceconfig.json", {}).get("hosts") or ["algo-1"]
    if len(hosts) > 1:
        _container_log(f"{len(hosts)} hosts requested; sagelocal trains this job on one node.")
    _container_log("Single node training.")
    _container_log(f"Train matrix has {dtrain.num_row()} rows and {dtrain.num_col()} columns")
    if dval is not None:
        _container_log(f"Validation matrix has {dval.num_row()} rows")
    booster, monitor = run_training(cfg, dtrain, dval, version, ws.model_dir)
    save_model(booster, ws.model_dir, version)
    return monitor.last  # as the service's FinalMetricDataList: the last value each metric logged


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(workspace: Path, version: str | None = None) -> int:
    """Run ``train`` and record the outcome in ``output/``; the process exit code."""
    out = Workspace(workspace).output_dir
    try:
        metrics = train(workspace, version)
    except XGBoostJobError as exc:
        print(exc.failure_reason, file=sys.stderr, flush=True)
        _write(out / "failure", exc.failure_reason)
        return 1
    except Exception as exc:  # anything unforeseen is the algorithm's fault, as the container reports it
        reason = f"AlgorithmError: framework error: \n{traceback.format_exc()}\n{exc}"[:1024]
        print(reason, file=sys.stderr, flush=True)
        _write(out / "failure", reason)
        return 1
    _write(out / "metrics.json", json.dumps(metrics, indent=1, sort_keys=True))
    _write(out / "success", "")
    return 0
