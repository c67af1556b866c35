"""Backoff after failed sign-ins: after `limit` failures in a row for one user name, that name is
locked for `lock_seconds`, doubling with each further lock-out (capped at an hour). A success clears it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class _Record:
    failures: int = 0
    locks: int = 0
    locked_until: float = 0.0


class SignInThrottle:
    def __init__(self, limit: int = 5, lock_seconds: float = 60.0) -> None:
        self.limit, self.lock_seconds = limit, lock_seconds
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, key: str) -> float:
        """How long `key` must still wait before trying again (0 when it may try now)."""
        with self._lock:
            record = self._records.get(key)
            return max(0.0, record.locked_until - time.monotonic()) if record else 0.0

    def failed(self, key: str) -> None:
        with self._lock:
            record = self._records.setdefault(key, _Record())
            record.failures += 1
            if record.failures >= self.limit:
                record.locked_until = time.monotonic() + min(3600.0, self.lock_seconds * 2**record.locks)
                record.locks += 1
                record.failures = 0

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)
