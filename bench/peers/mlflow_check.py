"""Check and measure the MLflow baseline on its own: ``mlflow models serve`` of an XGBoost booster.

Trains a small ``binary:logistic`` model on random float32 data (this venv's xgboost), saves it with
``Booster.save_model`` (JSON), wraps it with ``mlflow.xgboost.save_model`` (bench/.venv-mlflow), serves
it with ``mlflow models serve --env-manager local`` (CLI default: 1 uvicorn worker), then:

1. correctness: for every request format, 1 row and ``--batch`` rows POSTed to ``/invocations`` must give
   ``float32`` scores equal to ``Booster.predict`` on the same rows;
2. latency at concurrency 1 (``--calls`` sequential calls, one keep-alive connection) and throughput at
   concurrency ``--concurrency`` (``--calls`` calls, one thread and keep-alive connection each), for 1
   row and ``--batch`` rows, per format; plus ``Booster.predict(DMatrix(rows))`` in-process for scale.

Client and server share the machine's cores; the client is ``http.client`` (bench/loadgen.py).

    .venv/bin/python bench/peers/mlflow_check.py [--calls 2000] [--concurrency 16] [--batch 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xgboost as xgb

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent.parent)]
from loadgen import http_caller, measure_latency, measure_throughput  # noqa: E402
from mlflow_model import (  # noqa: E402
    CSV_FROM_ROWS,
    FORMATS,
    best_format,
    ensure_mlflow_venv,
    invocation_body,
    mlflow_server,
    parse_predictions,
    save_mlflow_model,
)

from sagelocal.launcher import free_port  # noqa: E402


def train(rows: int, features: int, rounds: int, seed: int = 0) -> tuple[xgb.Booster, np.ndarray]:
    """A binary:logistic booster on random float32 data, and a separate float32 scoring set."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, features), dtype=np.float32)
    logit = 3 * (x[:, 0] - x[:, 1]) + x[:, 2] * x[:, 3] + rng.normal(0, 0.5, rows)
    y = (logit > 0).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.2, "tree_method": "hist"}
    booster = xgb.train(params, xgb.DMatrix(x, label=y), rounds)
    return booster, rng.random((max(1000, rows // 2), features), dtype=np.float32)


def check_scores(base: str, booster: xgb.Booster, x: np.ndarray, batch: int) -> None:
    """1 row and ``batch`` rows in every format must score exactly like ``Booster.predict``."""
    for fmt in FORMATS:
        for n in (1, batch):
            rows = x[:n]
            ctype, body = invocation_body(rows.tolist(), fmt)
            got = np.asarray(
                parse_predictions(http_caller(base, "/invocations", body, {"Content-Type": ctype})())
            )
            want = booster.predict(xgb.DMatrix(rows))
            if got.shape != want.shape or not np.array_equal(got.astype(np.float32), want):
                raise AssertionError(f"{fmt}, {n} rows: scores differ from Booster.predict")
            print(f"  {fmt:<16} {n:>4} rows: {n} scores == Booster.predict (float32)")


def _ok(body: bytes) -> None:
    if not body.startswith(b'{"predictions": ['):
        raise RuntimeError(f"unexpected answer {body[:200]!r}")


def row(label: str, n: int, call: Callable[[], object], calls: int, concurrency: int) -> str:
    """One table line: latency at concurrency 1, then throughput at ``concurrency``."""
    lat = measure_latency(call, calls)
    thr = measure_throughput(call, calls, concurrency)
    return (
        f"{label:<28} {n:>5} {lat['p50']:>8.3f} {lat['p99']:>8.3f} {lat['mean']:>8.3f}"
        f" {thr['rps']:>9.0f} {thr['p50']:>8.2f} {thr['p99']:>8.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=2000, help="calls per latency and per throughput run")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--batch", type=int, default=500, help="rows in the batch request")
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--train-rows", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--formats", default=",".join(FORMATS), help=f"comma list of {FORMATS}")
    args = ap.parse_args()
    formats = [f for f in args.formats.split(",") if f]

    python = ensure_mlflow_venv()
    booster, x = train(args.train_rows, args.features, args.rounds)
    with tempfile.TemporaryDirectory(prefix="mlflow-check-") as tmp:
        work = Path(tmp)
        booster.save_model(work / "model.json")
        t0 = time.perf_counter()
        model_dir = save_mlflow_model(work / "model.json", work / "mlflow-model", python)
        print(f"mlflow.xgboost.save_model (subprocess): {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        with (work / "server.log").open("wb") as log, mlflow_server(model_dir, free_port(), log=log) as base:
            print(f"mlflow models serve: /ping answered after {time.perf_counter() - t0:.1f} s at {base}")
            check_scores(base, booster, x, args.batch)

            c = args.concurrency
            print(
                f"\n{args.calls} calls per cell; latency at concurrency 1, throughput at concurrency {c};"
                f" {args.features} features, {args.rounds} trees of depth <= 6; times in ms"
            )
            print(
                f"{'contender':<28} {'rows':>5} {'p50':>8} {'p99':>8} {'mean':>8}"
                f" {f'rps@{c}':>9} {f'p50@{c}':>8} {f'p99@{c}':>8}"
            )
            for n in (1, args.batch):
                rows = x[:n]
                print(
                    row(
                        "xgboost in-process", n, lambda r=rows: booster.predict(xgb.DMatrix(r)), args.calls, c
                    )
                )
                for fmt in formats:
                    ctype, body = invocation_body(rows.tolist(), fmt)
                    call = http_caller(base, "/invocations", body, {"Content-Type": ctype}, check=_ok)
                    mark = " *" if fmt == best_format(n) else ""
                    print(row(f"mlflow {fmt}{mark}", n, call, args.calls, c), flush=True)
            print(
                f"* the format best_format() picks for that size: 'inputs' JSON below {CSV_FROM_ROWS} rows,"
                " 'csv' (with a header line) from there on; see bench/peers/mlflow_model.py"
            )


if __name__ == "__main__":
    main()
