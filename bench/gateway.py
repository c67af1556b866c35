"""Gateway overhead: boto3 round trips to sagelocal vs. the same boto3 call to a do-nothing server.

Both servers run the same uvicorn stack as separate processes on loopback; the baseline answers
every request with a canned GetCallerIdentity response. The difference at p50 is what the
gateway adds (SigV4 verification, routing, parsing, validation, the provider call and
serialization). Target: under 1 ms at p50.

    .venv/bin/python bench/gateway.py [--calls 3000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sagelocal.launcher import ServerProcess, free_port


def _client(service: str, endpoint: str, key: str, secret: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="ap-northeast-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def _time_calls(call, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()

    port = free_port()
    baseline = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("canned_server.py")), str(port)]
    )
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp)) as server:
        creds = server.credentials()
        key, secret = creds["aws_access_key_id"], creds["aws_secret_access_key"]
        ours = _client("sts", server.endpoint_url, key, secret)
        logs = _client("logs", server.endpoint_url, key, secret)
        canned = _client("sts", f"http://127.0.0.1:{port}", key, secret)
        deadline = time.monotonic() + 20
        while True:
            try:
                canned.get_caller_identity()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        calls = {
            "baseline (canned server)": canned.get_caller_identity,
            "sagelocal GetCallerIdentity": ours.get_caller_identity,
            "sagelocal DescribeLogGroups": logs.describe_log_groups,
        }
        for call in calls.values():
            _time_calls(call, 300)  # warm up connections, caches, code paths
        samples: dict[str, list[float]] = {name: [] for name in calls}
        rounds = 10
        for _ in range(rounds):  # interleave so drift hits all alike
            for name, call in calls.items():
                samples[name] += _time_calls(call, args.calls // rounds)
    baseline.terminate()
    baseline.wait()

    base_p50 = statistics.median(samples["baseline (canned server)"])
    print(f"{'call':32} {'p50 ms':>8} {'p99 ms':>8} {'added p50 ms':>13} {'ratio':>6}")
    for name, values in samples.items():
        p50 = statistics.median(values)
        print(f"{name:32} {p50:8.3f} {_pct(values, 99):8.3f} {p50 - base_p50:13.3f} {p50 / base_p50:6.2f}")
    added = statistics.median(samples["sagelocal GetCallerIdentity"]) - base_p50
    print(f"\ngateway adds {added:.3f} ms at p50 (target < 1 ms): {'PASS' if added < 1.0 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
