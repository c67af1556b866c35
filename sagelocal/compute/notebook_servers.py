"""Notebook servers: one JupyterLab process per InService notebook instance, on its own loopback
port, in its own process group, tied to the platform's lifetime (`sagelocal.compute.tethered`),
health-checked over HTTP and stopped gracefully. Its kernels and terminals run in sessions of
their own; they, and whatever they start, are found by the instance's process mark
(`process_marks`) and ended with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sagelocal.compute.output import pump_lines
from sagelocal.compute.probe import http_get
from sagelocal.compute.process_marks import kill_marked


@dataclass
class NotebookServer:
    """A JupyterLab process. `argv` runs it (a `python -m <module> ...` command); `ready_path`
    answers 200 without authentication once it serves."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    ready_path: str
    log: Callable[[str], None]
    name: str = ""
    mark: str = ""
    restarts: int = 0
    # Where a browser lands (JupyterLab's default URL).
    default_path: str = "/lab"
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = list(self.argv)
        if argv[1:2] == ["-m"]:  # run the module under the parent watch
            argv = [argv[0], "-m", "sagelocal.compute.tethered", *argv[2:]]
        self.proc = subprocess.Popen(
            argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pump_lines(self.proc, self.log)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def answers(self, timeout: float = 2.0) -> bool:
        return http_get(self.port, self.ready_path, timeout)[0] == 200

    def wait_ready(self, timeout: float) -> str | None:
        """Wait until the server answers (None) or fails: the reason why."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                code = self.proc.returncode if self.proc else None
                return f"JupyterLab exited with code {code} while starting"
            if self.answers():
                return None
            time.sleep(0.05)
        return f"JupyterLab did not start within {timeout:.0f} seconds"

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM JupyterLab (it shuts its kernels down), then SIGKILL its process group."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if self.mark:
            kill_marked(self.mark)  # kernels, terminals and what they started
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5.0)
