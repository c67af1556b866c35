"""Notebook-instance tests share one server whose limits are short enough to test: lifecycle
scripts may run 4 seconds (AWS: 5 minutes) and presigned URLs open for 6 seconds (AWS: 5
minutes). Helpers create local Git repositories, lifecycle configurations and instances, and
run commands inside an instance through `sagelocal notebook run`."""

from __future__ import annotations

import base64
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import AwsClients

LIFECYCLE_TIMEOUT = 4
URL_TTL = 6
FAST = {"Delay": 0.5, "MaxAttempts": 240}
SAGELOCAL = str(Path(sys.executable).with_name("sagelocal"))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def git_repo(root: Path, name: str, files: dict[str, str]) -> Path:
    """A local Git repository with one commit holding `files`."""
    repo = root / name
    repo.mkdir(parents=True)
    for rel, text in files.items():
        (repo / rel).write_text(text)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "HOME": str(root)}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin"}
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "."], ["git", "commit", "-qm", "init"]):
        subprocess.run(argv, cwd=repo, env=env, check=True)
    return repo


def b64(script: str) -> str:
    return base64.b64encode(script.encode()).decode()


def lifecycle_config(sm: Any, on_create: str | None = None, on_start: str | None = None) -> str:
    name = unique("lcc")
    params: dict[str, Any] = {"NotebookInstanceLifecycleConfigName": name}
    if on_create is not None:
        params["OnCreate"] = [{"Content": b64(on_create)}]
    if on_start is not None:
        params["OnStart"] = [{"Content": b64(on_start)}]
    sm.create_notebook_instance_lifecycle_config(**params)
    return name


def wait(sm: Any, waiter: str, name: str) -> None:
    sm.get_waiter(waiter).wait(NotebookInstanceName=name, WaiterConfig=FAST)


def run_inside(
    aws: AwsClients, name: str, *command: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`sagelocal notebook run NAME -- command...` against the test server's home."""
    server = aws.server
    argv = [SAGELOCAL, "notebook", "run", "--home", str(server.home), "--region", server.region, name, "--"]
    return subprocess.run(
        [*argv, *command], capture_output=True, text=True, timeout=timeout, env={"PATH": "/usr/bin:/bin"}
    )


def log_messages(logs: Any, stream: str) -> list[str]:
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/NotebookInstances", logStreamName=stream, startFromHead=True
    )["events"]
    return [e["message"] for e in events]
