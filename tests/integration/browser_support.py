"""Support for tests that face a notebook server as a browser does: a JupyterLab launched directly
with `sagelocal.notebook_server.launch` (no sagelocal server), and Debian's Chromium via Playwright.

Chromium is required: when /usr/bin/chromium is missing the browser tests skip, unless CI is set,
where they fail loudly.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sagelocal.launcher import free_port
from sagelocal.notebook_server.identity import ENV_INSTANCE, ENV_SECRET_FILE
from sagelocal.notebook_server.launch import jupyter_command, jupyter_environment, ready_path
from sagelocal.notebook_server.tokens import mint_url_token

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class JupyterLab:
    """A JupyterLab child process for one notebook instance, in `workdir` on a free loopback port."""

    def __init__(self, workdir: Path, instance: str = "nb-test") -> None:
        self.instance = instance
        self.secret = secrets.token_urlsafe(32)
        self.root = workdir / "SageMaker"
        self.root.mkdir(parents=True)
        secret_file = workdir / "auth-secret"
        secret_file.write_text(self.secret)
        secret_file.chmod(0o600)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "jupyterlab.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "SAGELOCAL_"))}
        env |= jupyter_environment(workdir / "runtime")
        env |= {ENV_INSTANCE: instance, ENV_SECRET_FILE: str(secret_file)}
        self.started = time.monotonic()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                jupyter_command(self.port, self.root),
                env=env,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.startup_seconds = self._wait_ready()

    def _wait_ready(self, timeout: float = 90.0) -> float:
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base_url + ready_path(), timeout=2) as reply:
                    if reply.status == 200:
                        return time.monotonic() - self.started
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"JupyterLab not ready after {timeout}s:\n{self.log()}")

    def presigned_url(self, path: str = "/lab", session_seconds: int = 1800, url_ttl: float = 300.0) -> str:
        """What CreatePresignedNotebookInstanceUrl would hand out for this server."""
        token = mint_url_token(self.secret, self.instance, session_seconds, url_ttl=url_ttl)
        return f"{self.base_url}{path}?authToken={token}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM (JupyterLab then shuts its kernels and terminals down), SIGKILL after `grace`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def running_jupyterlab(workdir: Path, instance: str = "nb-test") -> Iterator[JupyterLab]:
    lab = JupyterLab(workdir, instance)
    try:
        yield lab
    finally:
        lab.stop()


def require_chromium() -> None:
    """Skip when Chromium or Playwright is missing, except under CI where that is a failure."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} not found"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as exc:
            problem = f"playwright not importable: {exc}"
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests need Chromium and Playwright under CI: {problem}", pytrace=False)
    pytest.skip(problem)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, through Playwright's sync API (no browser download)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
