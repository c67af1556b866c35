"""Run one training job's child process, watch it, stop it, and say how it ended.

The supervisor (a thread of the server process) starts `sagelocal.compute.runner` in its own
process group, relays its phases and log lines to a `JobEvents` listener, enforces
MaxRuntimeInSeconds, and on a stop request sends SIGTERM to the group, waits `stop_grace`
seconds, then SIGKILLs it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)
INTERNAL_ERROR = "InternalServerError: We encountered an internal error. Please try again."


@dataclass
class Outcome:
    """How a job ended: TrainingJobStatus, SecondaryStatus, and what it produced."""

    status: str  # Completed | Failed | Stopped
    secondary: str  # Completed | Failed | Stopped | MaxRuntimeExceeded
    failure_reason: str | None = None
    model_uri: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)


class JobEvents(Protocol):
    """What the supervisor reports; the service persists each call before returning."""

    def phase(self, status: str) -> None: ...
    def log(self, line: str, host: str = "algo-1") -> None: ...
    def finished(self, outcome: Outcome) -> None: ...


@dataclass
class JobSpec:
    """Everything the child needs. `credentials` (the job role's temporary credentials) reach
    the child through a private file the supervisor rewrites from `refresh` every
    `refresh_every` seconds, so jobs may outlive one set; the rest goes in its environment."""

    name: str
    workspace: Path
    algorithm_argv: list[str]
    algorithm_env: dict[str, str]
    channels: list[dict[str, Any]]
    input_mode: str
    hyperparameters: dict[str, str]
    model_uri: str
    endpoint_url: str
    region: str
    role_arn: str
    credentials: dict[str, str]
    max_runtime: float
    stop_grace: float = 120.0
    refresh: Callable[[], dict[str, str]] | None = None
    refresh_every: float = 1800.0
    framework: str | None = None  # script mode's framework (images.Algorithm.framework)
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    dask: dict[str, str] | None = None  # the Dask backend's scheduler address and worker memory

    @property
    def credentials_file(self) -> Path:
        return self.workspace / ".sagelocal" / "credentials.json"

    def to_json(self) -> str:
        skip = ("max_runtime", "stop_grace", "credentials", "refresh", "refresh_every")
        doc = {k: v for k, v in self.__dict__.items() if k not in skip}
        return json.dumps(
            doc | {"workspace": str(self.workspace), "credentials_file": str(self.credentials_file)}
        )

    def write_credentials(self) -> None:
        """Atomically (re)write the credentials file, readable by this user only."""
        path = self.credentials_file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.credentials, f)
        os.replace(tmp, path)


class JobHandle:
    """A queued or running job the server may ask to stop."""

    def __init__(self) -> None:
        self.stop_requested = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        self.stop_requested.set()


def _outcome(done: dict[str, Any] | None, code: int, stop_reason: str | None) -> Outcome:
    if stop_reason is not None and (done is None or "client_error" not in done):
        model = done.get("model") if done else None
        metrics = done.get("metrics", {}) if done else {}
        return Outcome("Stopped", stop_reason, model_uri=model, metrics=metrics)
    if done is None:
        return Outcome("Failed", "Failed", f"{INTERNAL_ERROR} (job process exited with code {code})")
    if "client_error" in done:
        return Outcome("Failed", "Failed", f"ClientError: {done['client_error']}")
    if done.get("exit_code", 0) != 0:
        text = done.get("failure") or f"Algorithm exited with code {done['exit_code']}"
        if not text.startswith(("ClientError:", "AlgorithmError:", "CapacityError:")):
            # built-in algorithms classify their own failures (output/failure); anything else is the algorithm's
            text = f"AlgorithmError: {text}"
        return Outcome("Failed", "Failed", text)
    return Outcome("Completed", "Completed", model_uri=done.get("model"), metrics=done.get("metrics", {}))


def _pump_logs(stream: Any, events: JobEvents) -> None:
    for raw in iter(stream.readline, b""):
        events.log(raw.decode("utf-8", errors="replace"))


def _pump_status(fd: int, events: JobEvents, done: list[dict[str, Any]]) -> None:
    with os.fdopen(fd, "rb") as status:
        for raw in status:
            try:
                msg = json.loads(raw)
            except ValueError:
                continue
            if msg.get("event") == "phase":
                events.phase(str(msg["status"]))
            elif msg.get("event") == "log":  # a line of another host than algo-1 (the process's own output)
                events.log(str(msg["line"]), str(msg.get("host", "algo-1")))
            elif msg.get("event") == "done":
                done.append(msg)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def run_job(spec: JobSpec, events: JobEvents, handle: JobHandle) -> Outcome:
    """Run the job to its end; returns (and reports via `events.finished`) its outcome."""
    if handle.stop_requested.is_set():  # stopped while queued
        outcome = Outcome("Stopped", "Stopped")
        events.finished(outcome)
        return outcome
    spec.workspace.mkdir(parents=True, exist_ok=True)
    spec.write_credentials()
    read_fd, write_fd = os.pipe()
    env = {**os.environ, "SAGELOCAL_JOB_SPEC": spec.to_json(), "SAGELOCAL_STATUS_FD": str(write_fd)}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sagelocal.compute.runner"],
        cwd=spec.workspace,
        env=env,
        pass_fds=(write_fd,),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    os.close(write_fd)
    handle.proc = proc
    done: list[dict[str, Any]] = []
    readers = [
        threading.Thread(target=_pump_logs, args=(proc.stdout, events), daemon=True),
        threading.Thread(target=_pump_status, args=(read_fd, events, done), daemon=True),
    ]
    for t in readers:
        t.start()
    deadline = time.monotonic() + spec.max_runtime
    refresh_at = time.monotonic() + spec.refresh_every
    stop_reason: str | None = None
    kill_at: float | None = None
    while True:
        try:
            proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if stop_reason is None and (handle.stop_requested.is_set() or now >= deadline):
            stop_reason = "Stopped" if handle.stop_requested.is_set() else "MaxRuntimeExceeded"
            _signal_group(proc, signal.SIGTERM)
            kill_at = now + spec.stop_grace
        elif kill_at is not None and now >= kill_at:
            _signal_group(proc, signal.SIGKILL)
        if spec.refresh is not None and now >= refresh_at:
            refresh_at = now + spec.refresh_every
            try:
                spec.credentials = spec.refresh()
                spec.write_credentials()
            except Exception:  # the old set stays until the next attempt
                log.exception("refreshing credentials of training job %s", spec.name)
    _signal_group(proc, signal.SIGKILL)  # nothing of the job outlives it
    for t in readers:
        t.join(timeout=10)
    outcome = _outcome(done[-1] if done else None, proc.returncode, stop_reason)
    events.finished(outcome)
    return outcome
