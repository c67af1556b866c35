"""``SAGEMAKER_MODEL_SERVER_TIMEOUT``: gunicorn kills a worker whose request blocks longer than the timeout.

A replica predicts inline, so the watchdog does the same to the whole replica: it logs gunicorn's
``WORKER TIMEOUT`` line and exits, and the platform restarts the replica.
"""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger("sagelocal.serving")


class Watchdog:
    """Marks when the current inline call began; a daemon thread ends the process if it runs too long."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.busy_since = 0.0  # monotonic start of the running call, 0 when idle
        if timeout > 0:
            threading.Thread(target=self._watch, name="sagelocal-serving-watchdog", daemon=True).start()

    def _watch(self) -> None:
        interval = min(1.0, self.timeout / 4)
        while True:
            time.sleep(interval)
            started = self.busy_since
            if started and time.monotonic() - started > self.timeout:
                log.critical(
                    "WORKER TIMEOUT (pid:%d): an invocation ran longer than SAGEMAKER_MODEL_SERVER_TIMEOUT=%gs",
                    os.getpid(), self.timeout,
                )  # fmt: skip
                logging.shutdown()
                os._exit(1)
