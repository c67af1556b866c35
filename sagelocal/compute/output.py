"""A child process's output, line by line, to a log sink (the platform ships it to CloudWatch Logs)."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Callable


def pump_lines(proc: subprocess.Popen[bytes], sink: Callable[[str], None]) -> threading.Thread:
    """Start a thread sending each line `proc` prints (stdout, with stderr merged in) to `sink`
    until the pipe closes. A failing sink never blocks the pipe."""

    def pump() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            with contextlib.suppress(Exception):
                sink(raw.decode("utf-8", errors="replace").rstrip("\n"))

    thread = threading.Thread(target=pump, name=f"sagelocal-output-{proc.pid}", daemon=True)
    thread.start()
    return thread
