"""A bounded pool of supervisor threads: at most `workers` jobs run at once, the rest queue.

The threads are daemons: a server that exits does not wait for its jobs. Their child processes
notice their parent is gone and end themselves; the next start marks those jobs Failed.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable

from sagelocal.compute.supervisor import JobHandle

log = logging.getLogger(__name__)
Task = tuple[str, JobHandle, Callable[[JobHandle], object]]


class WorkerPool:
    """Runs job functions on `workers` threads (default: one per core) in submission order."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._queue: queue.Queue[Task] = queue.Queue()
        self._handles: dict[str, JobHandle] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _work(self) -> None:
        while True:
            key, handle, fn = self._queue.get()
            try:
                fn(handle)
            except Exception:
                log.exception("job %s", key)
            finally:
                with self._lock:
                    if self._handles.get(key) is handle:
                        del self._handles[key]

    def submit(self, key: str, fn: Callable[[JobHandle], object]) -> JobHandle:
        """Queue `fn(handle)` under `key`; the handle lets `stop(key)` reach it."""
        handle = JobHandle()
        with self._lock:
            self._handles[key] = handle
            if len(self._threads) < self.workers:  # threads start on demand
                thread = threading.Thread(target=self._work, name=f"sagelocal-job-{len(self._threads)}")
                thread.daemon = True
                thread.start()
                self._threads.append(thread)
        self._queue.put((key, handle, fn))
        return handle

    def stop(self, key: str) -> bool:
        """Ask the job under `key` to stop; False if it is neither queued nor running."""
        with self._lock:
            handle = self._handles.get(key)
        if handle is None:
            return False
        handle.stop()
        return True
