"""The MLflow baseline for bench/inference.py: an XGBoost booster served by ``mlflow models serve``.

MLflow lives in its own venv, ``bench/.venv-mlflow`` (mlflow 3.17.2, xgboost-cpu 3.2.0 like ours),
made from ``bench/peers/mlflow-requirements.txt`` by ``ensure_mlflow_venv()`` when missing::

    python3 -m venv bench/.venv-mlflow && bench/.venv-mlflow/bin/pip install -r bench/peers/mlflow-requirements.txt

``save_mlflow_model`` wraps a ``Booster.save_model`` file (JSON/UBJ) with ``mlflow.xgboost.save_model``
(no signature, explicit pip requirements); ``mlflow_server`` serves it.

The server (mlflow 3.17.2). ``mlflow models serve -m DIR --env-manager local`` runs
``exec uvicorn --workers 1 mlflow.pyfunc.scoring_server.app:app`` through ``bash -c``: a FastAPI app on
plain uvicorn (asyncio + h11; ``pip install mlflow`` brings no uvloop/httptools). ``uvicorn`` is looked up
on PATH, so the venv's ``bin`` must come first there (``mlflow_server`` sees to it, as an activated venv
would). Workers: the CLI passes ``--workers 1`` unless ``-w/--workers N`` (or env ``MLFLOW_MODELS_WORKERS``)
says otherwise; ``mlflow_server`` keeps that default (and drops ``MLFLOW_MODELS_WORKERS`` from the child's
environment; MLflow's telemetry is switched off, ``MLFLOW_DISABLE_TELEMETRY``). Each request's
parse + predict + JSON encoding runs in ``asyncio.to_thread``.
``GET /ping`` and ``GET /health`` answer 200 (body ``"\n"``) once the model is loaded; startup takes
about 5 s here.

``POST /invocations`` request formats (``mlflow/pyfunc/scoring_server/__init__.py``; the model is saved
without a signature, so no schema is enforced on any of them):

- ``text/csv``: ``pandas.read_csv(body)``, so the FIRST LINE IS THE HEADER. A headerless CSV of feature
  rows, as SageMaker's XGBoost container takes, is not equivalent: its first row silently becomes the
  column names (3 rows in, 2 predictions out; 1 row in, a 400). The equivalent body is that CSV with one
  header line (``f0,f1,...``) in front. The DataFrame goes to ``xgb.DMatrix(df)``.
- ``application/json`` ``{"inputs": [[...], ...]}``: ``json.loads``, a ``deepcopy`` of the lists,
  ``numpy.array`` (float64), ``DMatrix(ndarray)``: no pandas. (``{"instances": ...}`` costs the same.)
- ``application/json`` ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}``: JSON, then a
  pandas DataFrame, then ``DMatrix(df)``; the slowest of the three at every size measured.
- (``application/vnd.apache.parquet``: binary, needs pyarrow in the client; cheaper than CSV only at
  thousands of rows, 18 vs 25 ms for 2000; not used.)

Column names do not matter for a booster without feature names (one trained on arrays or a headerless
CSV, like SageMaker's): xgboost 3.2 validates names only when the booster has some.

The format used (``best_format(rows)``) is the one that is cheapest for MLflow at that size, as measured
on the 2-core dev machine (20 features, p50 at concurrency 1, one run): ``inputs`` JSON below ``CSV_FROM_ROWS``
(150) rows: 1 row 2.5 ms vs CSV 5.9 ms, since ``read_csv`` plus the DataFrame path cost ~3 ms fixed;
``csv`` with a header from 150 rows on: 500 rows 6.8 ms vs ``inputs`` 13.5 ms, since ``inputs`` builds a
Python float object per value (json, deepcopy, np.array) while ``read_csv`` parses in C. Giving MLflow its
cheapest path per size is the fair baseline; the CSV body is also, byte for byte, sagelocal's headerless
CSV plus one header line. ``bench/peers/mlflow_check.py`` re-measures all three formats.

Response (every format): ``200 application/json`` ``{"predictions": [p0, p1, ...]}``, one float per row
(binary:logistic: the probability ``Booster.predict`` returns, its float32 written as a double via
``ndarray.tolist()``, so ``numpy.float32(p)`` equals ``Booster.predict`` exactly). Errors: 400 with
``{"error_code": "BAD_REQUEST", "message": ..., ...}`` for a body it cannot parse or score, 415
(text/plain) for another content type.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
MLFLOW_VENV = ROOT / "bench" / ".venv-mlflow"
MLFLOW_REQUIREMENTS = ROOT / "bench" / "peers" / "mlflow-requirements.txt"
MLFLOW_PYTHON = MLFLOW_VENV / "bin" / "python"
MLFLOW_CLI = MLFLOW_VENV / "bin" / "mlflow"

# the request formats of POST /invocations that invocation_body() writes
FORMATS = ("inputs", "csv", "dataframe_split")
# best_format(): from this many rows on, CSV (with a header line) is cheaper for MLflow than JSON "inputs"
CSV_FROM_ROWS = 150

_SAVE_SCRIPT = """
import sys, mlflow, mlflow.xgboost, xgboost
booster = xgboost.Booster()
booster.load_model(sys.argv[1])
mlflow.xgboost.save_model(
    booster, sys.argv[2], model_format="ubj",
    pip_requirements=[f"mlflow=={mlflow.__version__}", f"xgboost-cpu=={xgboost.__version__}"],
)
"""


def ensure_mlflow_venv() -> Path:
    """``bench/.venv-mlflow/bin/python``, creating the venv from the requirements on first use."""
    if not MLFLOW_CLI.exists():
        print(f"creating {MLFLOW_VENV} (mlflow, once; ~80 s) ...", flush=True)
        python3 = shutil.which("python3") or sys.executable
        subprocess.run([python3, "-m", "venv", str(MLFLOW_VENV)], check=True)
        pip = [str(MLFLOW_PYTHON), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "-r", str(MLFLOW_REQUIREMENTS)], check=True)
    return MLFLOW_PYTHON


def save_mlflow_model(booster_file: Path, out_dir: Path, python: Path = MLFLOW_PYTHON) -> Path:
    """Save the booster in ``booster_file`` as an MLflow model in ``out_dir`` (must not exist yet).

    Runs in ``python`` (the mlflow venv's) as a subprocess. No signature, so the server enforces no
    schema; pip requirements are given, which skips MLflow's requirement inference (a model reload).
    """
    subprocess.run(
        [str(python), "-c", _SAVE_SCRIPT, str(Path(booster_file).resolve()), str(Path(out_dir).resolve())],
        check=True,
        stdout=subprocess.DEVNULL,
        env=_child_env(python),
    )
    return out_dir


def _child_env(python: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment with the venv's ``bin`` first on PATH, default worker count, no telemetry."""
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_MODELS_WORKERS", "WEB_CONCURRENCY")}
    env["PATH"] = f"{Path(python).parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(Path(python).parent.parent)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    env.update(extra or {})
    return env


@contextmanager
def mlflow_server(
    model_dir: Path,
    port: int,
    *,
    workers: int | None = None,
    log: IO[bytes] | None = None,
    env: dict[str, str] | None = None,
    startup_timeout: float = 120.0,
) -> Iterator[str]:
    """Serve ``model_dir`` with ``mlflow models serve`` on 127.0.0.1:``port``; yield the base URL.

    ``workers=None`` keeps the CLI's default (1); ``log`` receives the server's stdout and stderr
    (default: discarded); ``env`` adds variables. The server runs in its own session and its whole
    process group (mlflow CLI, bash, uvicorn) is terminated on exit.
    """
    cmd: list[str] = [str(MLFLOW_CLI), "models", "serve", "-m", str(Path(model_dir).resolve())]
    cmd += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    if workers is not None:
        cmd += ["-w", str(workers)]
    out = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        cmd,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=str(Path(model_dir).resolve().parent),
        env=_child_env(MLFLOW_PYTHON, env),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow models serve exited with {proc.returncode} before /ping answered")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow models serve: no /ping answer within {startup_timeout:.0f} s")
            time.sleep(0.1)
        yield base
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM the process group led by ``proc``; SIGKILL what is left of it after ``grace`` seconds."""
    pgid = proc.pid  # start_new_session: the CLI leads its own group, uvicorn (bash exec) is in it
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    try:
        proc.wait(grace)
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)  # raises ProcessLookupError once the whole group is gone
            time.sleep(0.05)
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait()


def best_format(rows: int) -> str:
    """The cheapest format for MLflow for a request of ``rows`` feature rows (measured, see module doc)."""
    return "csv" if rows >= CSV_FROM_ROWS else "inputs"


def invocation_body(rows: Sequence[Sequence[float]], fmt: str | None = None) -> tuple[str, bytes]:
    """``(content type, body)`` of a ``POST /invocations`` carrying ``rows`` (feature rows) in ``fmt``.

    ``fmt=None`` takes ``best_format(len(rows))``. The CSV is the headerless CSV plus a header line.
    Values are written with ``repr`` of Python floats (float32 data: pass ``ndarray.tolist()`` of a
    float32 array, whose doubles round-trip exactly).
    """
    fmt = fmt or best_format(len(rows))
    if fmt == "inputs":
        return "application/json", json.dumps({"inputs": rows}).encode()
    if fmt == "dataframe_split":
        columns = [f"f{i}" for i in range(len(rows[0]))]
        return "application/json", json.dumps(
            {"dataframe_split": {"columns": columns, "data": rows}}
        ).encode()
    if fmt == "csv":
        header = ",".join(f"f{i}" for i in range(len(rows[0])))
        lines = [header, *(",".join(map(repr, row)) for row in rows)]
        return "text/csv", ("\n".join(lines) + "\n").encode()
    raise ValueError(f"unknown format {fmt!r}; one of {FORMATS}")


def parse_predictions(body: bytes) -> list[float]:
    """The ``predictions`` list of an ``/invocations`` answer."""
    return json.loads(body)["predictions"]
