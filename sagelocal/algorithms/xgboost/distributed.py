"""Multi-instance training of the built-in XGBoost algorithm on Dask workers (``xgboost.dask``).

Each host ``algo-i`` is one Dask worker holding its own channel files (placed by the job process, as
SageMaker places them). Every file becomes one partition loaded *on its host*; the partitions form a
Dask array that ``xgboost.dask`` trains on where the data lie, so no worker ever holds the whole set.
Hyperparameters, channel checks, metrics and failure messages are the single-node algorithm's; the
per-round line is logged once (by rank 0) and reaches the job's log through a Dask event topic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import data
from .errors import UserError
from .hyperparameters import train_config
from .metrics import custom_metric_function, split_eval_metrics
from .train import _fmt, early_stopping, save_model, train_failure
from .versions import LEGACY, normalize_version

log = logging.getLogger("sagelocal.algorithms.xgboost")
TOPIC = "sagelocal-xgboost-round"  # Dask event topic of the per-round lines
NO_DATA = (
    "Host {host} does not have data. Will broadcast to cluster and will not be used in distributed training."
)


@dataclass
class Host:
    """One instance: its name, the Dask worker it is, and its channel directories on that worker."""

    name: str
    address: str
    channels: dict[str, str]  # channel name -> directory on the worker


# ----------------------------------------------------------------------------------------- on workers
def list_files(channel_dir: str) -> list[str]:
    """The channel's data files on this worker (hidden files refused, 3 levels deep, sorted)."""
    path = Path(channel_dir)
    if data.channel_size(path) == 0:
        return []
    return [str(f) for f in data.data_files(path)]


def load_part(file: str, fmt: str, csv_weights: int) -> tuple[Any, Any, Any]:
    """(features, labels, weights or None) of one file, as float32 arrays."""
    import numpy as np

    path = Path(file)
    if fmt != data.CSV:  # a CSV's check is sniffing its delimiter, just below
        data.check_format([path], fmt)
    if fmt == data.CSV:
        first_line = data._first_line(path)
        values = _read_csv(path, first_line, data.sniff_delimiter(first_line))
        first = 2 if csv_weights == 1 else 1
        weights = values[1] if csv_weights == 1 else None
        features = np.empty((len(values[0]), len(values) - first), dtype=np.float32)
        for j in range(first, len(values)):
            features[:, j - first] = values[j]
            values[j] = None  # each column goes as soon as it is copied: the peak stays one file
        return features, values[0], weights
    dmatrix = data.load_dmatrix(path, fmt, csv_weights)
    matrix = dmatrix.get_data().toarray().astype(np.float32)
    weights = dmatrix.get_weight()
    return matrix, dmatrix.get_label().astype(np.float32), (weights if weights.size else None)


def _read_csv(path: Path, first_line: str, delimiter: str) -> list[Any]:
    """The file's columns as float32 arrays (pyarrow's reader: unlike pandas' it leaves no heap
    fragments behind, which matters when a worker holds many files near its memory limit)."""
    import numpy as np
    import pyarrow as pa
    from pyarrow import csv

    columns = len(first_line.rstrip("\r\n").split(delimiter))
    names = [f"c{i}" for i in range(columns)]
    try:
        table = csv.read_csv(
            path, read_options=csv.ReadOptions(column_names=names),
            parse_options=csv.ParseOptions(delimiter=delimiter),
            convert_options=csv.ConvertOptions(column_types=dict.fromkeys(names, pa.float32())),
        )  # fmt: skip
    except Exception as exc:
        raise UserError(f"Failed to load csv data with exception:\n{exc}") from exc
    out: list[Any] = []
    for name in names:
        out.append(table.column(name).to_numpy().astype(np.float32, copy=False))
    del table
    pa.default_memory_pool().release_unused()  # else the pool keeps each file's buffers (≈20% of a worker)
    return out


def part_shape(part: tuple[Any, Any, Any]) -> tuple[int, int]:
    return part[0].shape


def pick(part: tuple[Any, Any, Any], index: int) -> Any:
    return part[index]


class RoundLogger:
    """On rank 0 only: each round's ``[i]\\ttrain-m:v...`` line, published to the driver."""

    def __init__(self, version: str) -> None:
        self.version = version

    def callback(self) -> Any:
        import xgboost as xgb

        version = self.version

        class Callback(xgb.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                from distributed import get_worker
                from xgboost import collective

                if collective.get_rank() != 0:
                    return False
                parts = [f"[{epoch}]"]
                for data_name, metrics in evals_log.items():
                    for metric, values in metrics.items():
                        value = float(values[-1][0] if isinstance(values[-1], tuple) else values[-1])
                        parts.append(f"{data_name}-{metric}:{_fmt(value, version)}")
                get_worker().log_event(TOPIC, "\t".join(parts))
                return False

        return Callback()


# ------------------------------------------------------------------------------------------ the driver
class Trainer:
    """Trains one job across `hosts` with `client`; `say(host, line)` writes to a host's log stream."""

    def __init__(self, client: Any, hosts: list[Host], say: Callable[[str, str], None]) -> None:
        self.client, self.hosts, self.say = client, hosts, say

    def _submit(self, fn: Callable[..., Any], host: Host, *args: Any) -> Any:
        return self.client.submit(fn, *args, workers=[host.address], allow_other_workers=False, pure=False)

    def _channel(self, name: str, fmt: str, csv_weights: int) -> tuple[Any, Any, Any] | None:
        """(X, y, w) Dask arrays of one channel, each partition on its host; None when no host has data."""
        import dask
        import dask.array as da
        import numpy as np

        listed = {h.name: self._submit(list_files, h, h.channels[name]) for h in self.hosts}
        files = dict(zip(listed, self.client.gather(list(listed.values())), strict=True))
        parts: list[tuple[Host, Any]] = []
        for host in self.hosts:
            for file in files[host.name]:
                parts.append((host, self._submit(load_part, host, file, fmt, csv_weights)))
        shapes = self.client.gather([self.client.submit(part_shape, p, pure=False) for _, p in parts])
        for host in self.hosts:
            rows = sum(s[0] for (h, _), s in zip(parts, shapes, strict=True) if h is host)
            if rows:
                self.say(
                    host.name, f"Channel {name}: {rows} rows from {len(files[host.name])} files on this host"
                )
            else:
                self.say(host.name, NO_DATA.format(host=host.name))
        if not parts or sum(s[0] for s in shapes) == 0:
            return None

        def column(index: int, shape: Callable[[tuple[int, int]], tuple[int, ...]]) -> Any:
            chunks = [
                da.from_delayed(
                    dask.delayed(self.client.submit(pick, p, index, pure=False)), shape(s), np.float32
                )
                for (_, p), s in zip(parts, shapes, strict=True)
            ]
            return da.concatenate(chunks)

        features = column(0, lambda s: s)
        labels = column(1, lambda s: (s[0],))
        weights = column(2, lambda s: (s[0],)) if csv_weights == 1 and name == "train" else None
        return features, labels, weights

    def train(self, config_dir: Path, model_dir: Path, version: str | None) -> dict[str, float]:
        """Train, save ``model_dir/xgboost-model``; return the final metrics. Raises XGBoostJobError."""
        import json

        from xgboost import dask as dxgb

        version = normalize_version(version)
        cfg = train_config(json.loads((config_dir / "hyperparameters.json").read_text()), version)
        channels = data.validate_channels(
            json.loads((config_dir / "inputdataconfig.json").read_text()), legacy=version == LEGACY
        )
        fmt = data.content_format(channels["train"].get("ContentType"))
        for note in cfg.notes:
            self.say("algo-1", note)
        train = self._channel("train", fmt, cfg.csv_weights)
        if train is None:
            raise UserError(data.NO_LABELS)
        dtrain = dxgb.DaskQuantileDMatrix(self.client, train[0], train[1], weight=train[2])
        evals = [(dtrain, "train")]
        if "validation" in channels:
            val = self._channel("validation", fmt, 0)
            if val is None:
                raise UserError("No data in validation channel path " + self.hosts[0].channels["validation"])
            evals.append((dxgb.DaskQuantileDMatrix(self.client, val[0], val[1], ref=dtrain), "validation"))
        self.say(
            "algo-1",
            f"Distributed training on {len(self.hosts)} hosts: {', '.join(h.name for h in self.hosts)}",
        )
        params = dict(cfg.params)
        native, custom = split_eval_metrics(cfg.eval_metrics)
        if native:
            params["eval_metric"] = native
        callbacks = [RoundLogger(version).callback(), *early_stopping(cfg, len(evals) > 1)]
        custom_fn = custom_metric_function(custom, params.get("objective", "")) if custom else None
        try:
            out = dxgb.train(
                self.client, params, dtrain, num_boost_round=cfg.num_round, evals=evals,
                custom_metric=custom_fn, callbacks=callbacks, verbose_eval=False,
            )  # fmt: skip
        except Exception as exc:
            raise train_failure(exc) from exc
        save_model(out["booster"], model_dir, version)
        return {
            f"{data_name}:{metric}": float(values[-1])
            for data_name, metrics in out["history"].items()
            for metric, values in metrics.items()
        }
