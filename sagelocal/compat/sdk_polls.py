"""SageMaker SDK v2 waits at this platform's pace: an endpoint is InService in about a second and a
small training job finishes in a few, so the SDK's sleeps (30 s between endpoint checks, 5 s for
jobs, 10 s between log reads) would be most of `deploy()` and `fit()`.

- `poll` arguments of the module-level waits are capped at `$SAGELOCAL_SDK_POLL_SECONDS`
  (default 0.5);
- `fit(logs=True)` tails the job's log and describes the job only when 30 s have passed on
  `sagemaker.session`'s clock; while such a tail runs (without a `timeout`), that clock moves 30 s
  on at each of its sleeps, so the job is described at every poll instead. Elsewhere, and in
  other threads, the clock is the real one.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import time
from collections.abc import Callable
from typing import Any

MARK = "__sagelocal_patched__"
DESCRIBE_EVERY = 30.0  # the SDK's literal interval between DescribeTrainingJob calls in a log tail

# Module-level waits the v2 Session's wait_for_* and logs_for_job call (their `poll` argument).
SITES = (
    ("sagemaker.session", "_wait_until"),
    ("sagemaker.session", "_wait_until_training_done"),
    ("sagemaker.session", "_logs_for_job"),
)
_LOG_TAILS = {"_logs_for_job"}


def poll_cap() -> float:
    return float(os.environ.get("SAGELOCAL_SDK_POLL_SECONDS") or 0.5)


class DescribeClock:
    """Stands in for the `time` module inside `sagemaker.session` (every other name is `time`'s)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def time(self) -> float:
        return time.time() + getattr(self._local, "skew", 0.0)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
        if getattr(self._local, "tailing", False):
            self._local.skew = getattr(self._local, "skew", 0.0) + DESCRIBE_EVERY

    def tailing(self, on: bool) -> None:
        self._local.tailing, self._local.skew = on, 0.0


def _capped(original: Callable[..., Any], clock: DescribeClock | None) -> Callable[..., Any]:
    """`original` with its `poll` (given or default) capped; with a clock, a log tail (see above)."""
    signature = inspect.signature(original)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        bound.arguments["poll"] = min(bound.arguments["poll"], poll_cap())
        tail = clock is not None and bound.arguments.get("timeout") is None
        if not tail:
            return original(*bound.args, **bound.kwargs)
        assert clock is not None
        clock.tailing(True)
        try:
            return original(*bound.args, **bound.kwargs)
        finally:
            clock.tailing(False)

    setattr(wrapper, MARK, True)
    return wrapper


def patch(module: Any, module_name: str) -> list[str]:
    """Patch the waits `module` (already imported) defines; the names patched."""
    patched = []
    for site_module, attr in SITES:
        original = getattr(module, attr, None) if site_module == module_name else None
        if original is None or "poll" not in inspect.signature(original).parameters:
            continue
        if not getattr(original, MARK, False):
            clock = None
            if attr in _LOG_TAILS:
                if not isinstance(getattr(module, "time", None), DescribeClock):
                    module.time = DescribeClock()
                clock = module.time
            setattr(module, attr, _capped(original, clock))
        patched.append(f"{module_name}.{attr}")
    return patched
