"""Per-request overhead of a replica: 1-row text/csv invocations over one keep-alive connection, against
``Booster.predict`` on the same row in-process.

``.venv/bin/python bench/serving.py [--rows N] [--features F] [--trees T] [--requests R]`` trains a small
binary:logistic booster, starts ``python -m sagelocal.serving`` on a free loopback port, and prints the
median/p90 of each (interleaved) and the difference.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _train(model_dir: Path, rows: int, features: int, trees: int) -> tuple[object, object]:
    import numpy as np
    import xgboost as xgb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, features))
    y = (x[:, 0] + rng.normal(scale=0.5, size=rows) > 0).astype(float)
    booster = xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(x, label=y), trees)
    booster.save_model(str(model_dir / "xgboost-model.json"))
    (model_dir / "xgboost-model.json").rename(model_dir / "xgboost-model")
    booster.set_param("nthread", 1)
    return booster, x[:1]


def _request(sock: socket.socket, port: int, body: bytes) -> bytes:
    head = (
        f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/csv\r\n"
        f"Accept: text/csv\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    header, _, rest = data.partition(b"\r\n\r\n")
    length = int(header.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += sock.recv(65536)
    return rest


def _quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e6, ordered[int(len(ordered) * 0.9)] * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"  # as in the replica, before xgboost loads OpenMP
    import xgboost as xgb

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp)
        booster, row = _train(model_dir, args.rows, args.features, args.trees)
        body = ",".join(map(str, row[0].tolist())).encode()
        port = _free_port()
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        argv_ = [
            sys.executable,
            "-m",
            "sagelocal.serving",
            "--model-dir",
            str(model_dir),
            "--port",
            str(port),
        ]
        proc = subprocess.Popen(argv_, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    sock = socket.create_connection(("127.0.0.1", port))
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            expected = booster.predict(xgb.DMatrix(row))
            for _ in range(200):
                answer = _request(sock, port, body)
            assert abs(float(answer) - float(expected[0])) < 1e-6, answer
            served, local, inplace = [], [], []
            for _ in range(args.requests):  # interleaved, so both see the same machine load
                start = time.perf_counter()
                _request(sock, port, body)
                served.append(time.perf_counter() - start)
                start = time.perf_counter()
                booster.predict(xgb.DMatrix(row, nthread=1))
                local.append(time.perf_counter() - start)
                start = time.perf_counter()
                booster.inplace_predict(row)
                inplace.append(time.perf_counter() - start)
            sock.close()
        finally:
            proc.terminate()
            proc.wait(10)
    (s_med, s_p90), (l_med, l_p90), (i_med, i_p90) = (
        _quantiles(served),
        _quantiles(local),
        _quantiles(inplace),
    )
    print(f"served  1-row text/csv: median {s_med:7.1f} us  p90 {s_p90:7.1f} us  ({args.requests} requests)")
    print(
        f"in-process predict:     median {l_med:7.1f} us  p90 {l_p90:7.1f} us  (Booster.predict(DMatrix(row)))"
    )
    print(
        f"in-process inplace:     median {i_med:7.1f} us  p90 {i_p90:7.1f} us  (Booster.inplace_predict(row))"
    )
    print(
        f"overhead (median):      {s_med - l_med:7.1f} us over predict, {s_med - i_med:7.1f} us over inplace"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
