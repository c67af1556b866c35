"""Finding a notebook instance's processes wherever they went: every process it starts carries
`SAGELOCAL_PROCESS_MARK=<mark>` in its environment, inherited by what it starts in turn, so
kernels (which JupyterLab starts in sessions of their own), their children, and jobs a
lifecycle script left running with `nohup ... &` can all be ended together (Linux's /proc)."""

from __future__ import annotations

import contextlib
import os
import signal

MARK_VAR = "SAGELOCAL_PROCESS_MARK"


def marked_pids(mark: str) -> list[int]:
    """The pids of this user's processes carrying `mark` (empty where /proc is missing)."""
    needle = f"{MARK_VAR}={mark}".encode()
    pids = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as f:
                    environ = f.read()
            except OSError:  # gone, or another user's
                continue
            if needle in environ.split(b"\0"):
                pids.append(int(entry.name))
    return pids


def kill_marked(mark: str) -> int:
    """SIGKILL every process carrying `mark`; how many there were."""
    pids = marked_pids(mark)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)
