"""Endpoint replicas: one model-server process each (`sagelocal.serving` on its own loopback
port), started, health-checked through `GET /ping`, and stopped.

A replica is told nothing about the platform: it gets a model directory, optionally a code
directory, a port and the container's environment, as a SageMaker inference container does.
Its output lines go to a `log` callable (the platform ships them to CloudWatch Logs).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sagelocal.compute.output import pump_lines
from sagelocal.compute.probe import http_get

PING_INTERVAL = 0.05


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    """Whether nobody listens on loopback `port` now."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def instance_id() -> str:
    """An EC2-style instance id, as SageMaker names an endpoint's instances (and log streams)."""
    return "i-0" + secrets.token_hex(8)


@dataclass
class ReplicaSpec:
    """What every replica of one production variant runs."""

    model_dir: Path
    env: dict[str, str]
    code_dir: Path | None = None


@dataclass
class Replica:
    """One model-server process. `in_flight` counts requests the gateway has sent it and not yet
    seen answered, so a retiring replica is stopped only once it has drained."""

    spec: ReplicaSpec
    log: Callable[[str], None]
    instance_id: str = field(default_factory=instance_id)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    ready: bool = False
    retiring: bool = False
    in_flight: int = 0
    restarts: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def enter(self) -> None:
        with self._count_lock:
            self.in_flight += 1

    def leave(self) -> None:
        with self._count_lock:
            self.in_flight -= 1

    def start(self) -> None:
        """Start (or restart) the process on a fresh port; `ready` turns True once /ping says so."""
        self.ready = False
        self.port = free_port()
        argv = [sys.executable, "-m", "sagelocal.compute.replica_main"]
        argv += ["--model-dir", str(self.spec.model_dir), "--port", str(self.port)]
        if self.spec.code_dir is not None:
            argv += ["--code-dir", str(self.spec.code_dir)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"} | self.spec.env
        self.proc = subprocess.Popen(
            argv,
            cwd=self.spec.model_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pump_lines(self.proc, lambda line: self.log(line))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ping(self, timeout: float = 2.0) -> tuple[int, str]:
        """GET /ping: (status, body); (0, reason) when nothing answers."""
        return http_get(self.port, "/ping", timeout)

    def wait_ready(self, timeout: float) -> str | None:
        """Wait until /ping answers 200 (None) or the replica fails: the reason why."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                code = self.proc.returncode if self.proc else None
                return f"the model server exited with code {code} before it answered the ping health check"
            status, body = self.ping()
            if status == 200:
                self.ready = True
                return None
            if status:
                return body.strip() or f"the ping health check answered {status}"
            time.sleep(PING_INTERVAL)
        return f"the model server did not answer the ping health check within {timeout:.0f} seconds"

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the replica's process group, then SIGKILL it after `grace` seconds."""
        self.ready = False
        proc = self.proc
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything the server itself started
