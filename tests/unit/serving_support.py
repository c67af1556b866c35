"""Support for the model-server tests: tiny real boosters, model directories, RecordIO payloads, and the
real ``python -m sagelocal.serving`` process on a free loopback port."""

from __future__ import annotations

import os
import pickle
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import xgboost as xgb

REPO = Path(__file__).resolve().parents[2]
MAGIC = 0xCED7230A


def train(objective: str, features: int = 4, rounds: int = 5, seed: int = 0, **params: Any) -> xgb.Booster:
    """A small booster trained on random data (labels fit the objective)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, features))
    if objective.startswith("multi:"):
        y = np.digitize(x[:, 0], [-0.5, 0.5]).astype(float)
        params.setdefault("num_class", 3)
    elif objective.startswith("binary:"):
        y = (x[:, 0] + x[:, 1] > 0).astype(float)
    elif objective.startswith(("count:", "reg:gamma", "reg:tweedie")):
        y = np.abs(2 * x[:, 0] - x[:, 1]) + 0.1
    else:
        y = 2 * x[:, 0] - x[:, 1]
    booster = xgb.train({"objective": objective, "nthread": 1, **params}, xgb.DMatrix(x, label=y), rounds)
    booster.set_param("nthread", 1)
    return booster


def rows(n: int = 5, features: int = 4, seed: int = 1) -> np.ndarray:
    return np.round(np.random.default_rng(seed).normal(size=(n, features)), 4)


def write_model(
    model_dir: Path, booster: xgb.Booster, name: str = "xgboost-model", pickled: bool = False
) -> Path:
    """Save as the images do: UBJSON ``save_model`` without extension, or a pickle (before 1.3-1)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / name
    if pickled:
        target.write_bytes(pickle.dumps(booster, protocol=4))
    else:
        tmp = model_dir / f".{name}.ubj"
        booster.save_model(str(tmp))
        tmp.replace(target)
    return target


def csv_body(x: np.ndarray, delimiter: str = ",") -> bytes:
    return "\n".join(delimiter.join(repr(float(v)) for v in row) for row in x).encode()


def expected(booster: xgb.Booster, x: Any) -> np.ndarray:
    return booster.predict(xgb.DMatrix(x), validate_features=False)


# --- RecordIO-protobuf requests (an aialgs.data.Record with features["values"] as a float32 tensor) -----


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _packed_varints(values: list[int]) -> bytes:
    return b"".join(_varint(v) for v in values)


def feature_record(
    values: list[float], keys: list[int] | None = None, shape: list[int] | None = None
) -> bytes:
    tensor = _field(1, struct.pack(f"<{len(values)}f", *values))
    if keys is not None:
        tensor += _field(2, _packed_varints(keys))
    if shape is not None:
        tensor += _field(3, _packed_varints(shape))
    entry = _field(1, b"values") + _field(2, _field(2, tensor))
    return _field(1, entry)


def recordio(records: list[bytes]) -> bytes:
    return b"".join(struct.pack("<II", MAGIC, len(r)) + r + b"\0" * (-len(r) % 4) for r in records)


# --- the real server process ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One ``python -m sagelocal.serving`` process and a keep-alive client to it."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    client: httpx.Client | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def post(
        self, body: bytes, content_type: str | None = "text/csv", accept: str | None = None
    ) -> httpx.Response:
        headers = {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if accept is not None:
            headers["Accept"] = accept
        assert self.client is not None
        return self.client.post("/invocations", content=body, headers=headers)

    def get(self, path: str) -> httpx.Response:
        assert self.client is not None
        return self.client.get(path)

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def launch(model_dir: Path, env: dict[str, str], log_dir: Path, code_dir: Path | None = None) -> Server:
    """Start a server (not yet waited for)."""
    port = free_port()
    argv = [sys.executable, "-m", "sagelocal.serving", "--model-dir", str(model_dir), "--port", str(port)]
    if code_dir is not None:
        argv += ["--code-dir", str(code_dir)]
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SAGEMAKER_", "SAGELOCAL_"))}
    full_env = {**keep, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", **env}
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO))
    return Server(proc, port, log_path)


def wait_answering(server: Server, timeout: float = 60.0) -> Server:
    """Wait until ``/ping`` answers at all (200, or 500 for a model that cannot load)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.log()}")
        try:
            httpx.get(server.url + "/ping", timeout=2.0)
            server.client = httpx.Client(base_url=server.url, timeout=30.0)
            return server
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not answer within {timeout}s:\n{server.log()}")
