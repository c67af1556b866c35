"""Support for the built-in XGBoost tests: real ``/opt/ml``-style workspaces and the real entry point run in
a subprocess, as the platform runs a training job."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
BANK_CSV = REPO / "sagelocal" / "data" / "bank-marketing" / "bank-additional.csv"
#: The service's metric regex for the escaped CloudWatch text (contract §3, numeric capture).
NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def metric_regex(channel: str, metric: str) -> str:
    return rf".*\[[0-9]+\].*#011{channel}-{metric}:{NUMBER}"


@dataclass
class Result:
    """A finished job: exit code, output, and the workspace's files."""

    returncode: int
    stdout: str
    stderr: str
    workspace: Path

    @property
    def failure(self) -> str | None:
        file = self.workspace / "output" / "failure"
        return file.read_text() if file.exists() else None

    @property
    def metrics(self) -> dict[str, float]:
        return json.loads((self.workspace / "output" / "metrics.json").read_text())

    @property
    def model_file(self) -> Path:
        return self.workspace / "model" / "xgboost-model"


def channel_config(content_type: str | None = "text/csv", mode: str = "File") -> dict[str, str]:
    config = {"TrainingInputMode": mode, "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}
    if content_type is not None:
        config["ContentType"] = content_type
    return config


def make_workspace(
    root: Path,
    hyperparameters: dict[str, str],
    channels: dict[str, dict[str, bytes | str]],
    content_type: str | None = "text/csv",
    configs: dict[str, dict[str, str]] | None = None,
) -> Path:
    """A workspace with config files and ``input/data/<channel>/<relative path>`` files."""
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    data_config = configs or {name: channel_config(content_type) for name in channels}
    (config / "inputdataconfig.json").write_text(json.dumps(data_config))
    resource = {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}
    (config / "resourceconfig.json").write_text(json.dumps(resource))
    for name, files in channels.items():
        directory = root / "input" / "data" / name
        directory.mkdir(parents=True)
        for relative, content in files.items():
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
    (root / "model").mkdir()
    (root / "output").mkdir()
    return root


def run_job(workspace: Path, version: str = "1.7-1", timeout: float = 120) -> Result:
    """Run ``python -m sagelocal.algorithms.xgboost train --workspace`` in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "sagelocal.algorithms.xgboost", "train", "--workspace", str(workspace),
         "--version", version],
        capture_output=True, text=True, timeout=timeout, cwd=REPO,
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr, workspace)


def csv_text(labels: Any, features: Any, weights: Any = None) -> str:
    columns = [labels] + ([weights] if weights is not None else []) + [features]
    rows = np.column_stack(columns)
    return "\n".join(",".join(f"{v:g}" for v in row) for row in rows) + "\n"


def binary_data(n: int = 200, d: int = 5, seed: int = 0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    y = (x[:, 0] + 0.2 * rng.random(n) > 0.6).astype(float)
    return y, x


def libsvm_text(labels: Any, features: Any) -> str:
    lines = []
    for label, row in zip(labels, features, strict=True):
        lines.append(" ".join([f"{label:g}"] + [f"{i}:{v:g}" for i, v in enumerate(row) if v]))
    return "\n".join(lines) + "\n"


def run_with(tmp_path: Path, hyperparameters: dict[str, str], channels: dict[str, dict[str, bytes | str]],
             version: str = "1.7-1", content_type: str | None = "text/csv", **kw: Any) -> Result:  # fmt: skip
    """make_workspace + run_job in one call."""
    ws = make_workspace(tmp_path / "ws", hyperparameters, channels, content_type, **kw)
    return run_job(ws, version)
