"""Per-endpoint invocation metrics, as SageMaker publishes them to CloudWatch (namespace
AWS/SageMaker, dimensions EndpointName and VariantName): Invocations, Invocation4XXErrors,
Invocation5XXErrors, ModelLatency and OverheadLatency (microseconds), per minute.

Held in memory by the server process for the last `keep_minutes` minutes; like CloudWatch's,
they outlive the endpoint.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str, str, str]  # (account, region, endpoint name, variant)


@dataclass
class Minute:
    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    model_us: list[int] = field(default_factory=list)
    overhead_us: list[int] = field(default_factory=list)


def _stats(values: list[int]) -> dict[str, float]:
    if not values:
        return {"SampleCount": 0}
    ordered = sorted(values)
    n = len(ordered)
    return {
        "SampleCount": n,
        "Average": sum(ordered) / n,
        "Minimum": ordered[0],
        "Maximum": ordered[-1],
        "p50": ordered[n // 2],
        "p99": ordered[min(n - 1, int(n * 0.99))],
    }


class InvocationMetrics:
    """Records each invocation's outcome; `snapshot()` gives the per-minute series."""

    def __init__(self, keep_minutes: int = 60) -> None:
        self._series: dict[Key, dict[int, Minute]] = defaultdict(dict)
        self._lock = threading.Lock()
        self._keep = keep_minutes

    def record(self, key: Key, status: int, model_us: int | None, overhead_us: int) -> None:
        minute = int(time.time() // 60) * 60
        with self._lock:
            series = self._series[key]
            bucket = series.get(minute)
            if bucket is None:
                bucket = series[minute] = Minute()
                for old in [m for m in series if m < minute - 60 * self._keep]:
                    del series[old]
            bucket.invocations += 1
            if 400 <= status < 500:
                bucket.errors_4xx += 1
            elif status >= 500:
                bucket.errors_5xx += 1
            if model_us is not None:
                bucket.model_us.append(model_us)
            bucket.overhead_us.append(overhead_us)

    def snapshot(self, account: str | None = None) -> list[dict[str, Any]]:
        """Every endpoint variant's per-minute datapoints (oldest first)."""
        out = []
        with self._lock:
            items = [(k, dict(v)) for k, v in self._series.items() if account in (None, k[0])]
        for (acct, region, endpoint, variant), minutes in sorted(items):
            points = [
                {
                    "Timestamp": minute,
                    "Invocations": m.invocations,
                    "Invocation4XXErrors": m.errors_4xx,
                    "Invocation5XXErrors": m.errors_5xx,
                    "ModelLatency": _stats(m.model_us),
                    "OverheadLatency": _stats(m.overhead_us),
                }
                for minute, m in sorted(minutes.items())
            ]
            out.append(
                {
                    "AccountId": acct,
                    "Region": region,
                    "EndpointName": endpoint,
                    "VariantName": variant,
                    "Datapoints": points,
                }
            )
        return out
