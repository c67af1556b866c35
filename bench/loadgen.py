"""A small closed-loop HTTP load generator shared by the inference benchmarks.

``call`` is any zero-argument callable that performs one request and raises on failure;
``http_caller`` builds one over ``http.client`` with a keep-alive connection per thread, so the same
callable can be handed to ``measure_latency`` (one thread) and ``measure_throughput`` (N threads).
Times are wall-clock ``time.perf_counter`` around each call, reported in milliseconds.
"""

from __future__ import annotations

import http.client
import math
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit


def http_caller(
    base_url: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    check: Callable[[bytes], None] | None = None,
    timeout: float = 60.0,
) -> Callable[[], bytes]:
    """A thread-safe ``call`` that POSTs ``body`` to ``base_url + path`` and returns the response body.

    Each thread lazily opens its own keep-alive ``HTTPConnection``; a non-200 answer raises
    ``RuntimeError``, and ``check`` (if given) may raise on a 200 body it does not accept.
    """
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    hdrs = {"Content-Length": str(len(body)), **headers}
    local = threading.local()

    def call() -> bytes:
        conn: http.client.HTTPConnection | None = getattr(local, "conn", None)
        reused = conn is not None
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.request("POST", path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        except (ConnectionError, http.client.RemoteDisconnected):
            conn.close()
            local.conn = None
            if not reused:
                raise
            return call()  # the server closed an idle keep-alive connection (uvicorn: after 5 s)
        except Exception:
            conn.close()
            local.conn = None
            raise
        if resp.status != 200:
            raise RuntimeError(f"POST {path}: HTTP {resp.status}: {data[:300]!r}")
        if check is not None:
            check(data)
        return data

    return call


def _percentile(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of an ascending list."""
    return sorted_ms[max(0, math.ceil(q / 100 * len(sorted_ms)) - 1)]


def measure_latency(call: Callable[[], object], n: int, warmup: int = 20) -> dict[str, float]:
    """``n`` sequential calls (after ``warmup`` untimed ones): ``{"p50", "p99", "mean"}`` in ms."""
    for _ in range(warmup):
        call()
    times: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50": _percentile(times, 50), "p99": _percentile(times, 99), "mean": statistics.fmean(times)}


def interleaved_latency(
    calls: dict[str, Callable[[], object]], n: int, rounds: int = 10, warmup: int = 20
) -> dict[str, dict[str, float]]:
    """Like ``measure_latency`` for several contenders at once, their calls interleaved in ``rounds``
    rounds (``n // rounds`` each per round) so that drift in the machine's load affects all alike."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        for _ in range(warmup):
            call()
    for _ in range(rounds):
        for name, call in calls.items():
            out = times[name]
            for _ in range(max(1, n // rounds)):
                t0 = time.perf_counter()
                call()
                out.append((time.perf_counter() - t0) * 1000)
    stats = {}
    for name, values in times.items():
        values.sort()
        stats[name] = {
            "p50": _percentile(values, 50),
            "p99": _percentile(values, 99),
            "mean": statistics.fmean(values),
        }
    return stats


def measure_throughput(
    call: Callable[[], object], calls: int, concurrency: int, warmup: int = 2
) -> dict[str, float]:
    """``calls`` calls spread over ``concurrency`` threads, closed loop: ``{"rps", "p50", "p99"}``.

    Every thread first makes ``warmup`` untimed calls (opening its connection), then all start
    together; ``rps`` is ``calls`` over the wall time from that start until the last call returns.
    The first exception raised by any call stops the run and is re-raised here.
    """
    lock = threading.Lock()
    remaining = calls
    per_thread: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[BaseException] = []
    start = threading.Barrier(concurrency + 1)

    def worker(i: int) -> None:
        nonlocal remaining
        try:
            for _ in range(warmup):
                call()
        except BaseException as exc:
            errors.append(exc)
        start.wait()
        out = per_thread[i]
        while not errors:
            with lock:
                if remaining <= 0:
                    return
                remaining -= 1
            t0 = time.perf_counter()
            try:
                call()
            except BaseException as exc:
                errors.append(exc)
                return
            out.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    times = sorted(t for out in per_thread for t in out)
    return {"rps": len(times) / wall, "p50": _percentile(times, 50), "p99": _percentile(times, 99)}
