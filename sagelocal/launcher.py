"""Start a sagelocal server as a child process and wait until it serves (for the CLI, tests, benchmarks)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from sagelocal.home import PROFILE


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A `sagelocal server` child on a loopback port, with its own home."""

    def __init__(
        self,
        home: Path,
        port: int | None = None,
        region: str = "ap-northeast-1",
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
        log: IO[str] | None = None,
    ) -> None:
        self.home = Path(home)
        self.port = port or free_port()
        self.region = region
        self.extra_args = extra_args or []
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[str] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        cmd = [
            sys.executable,
            "-m",
            "sagelocal",
            "server",
            "--home",
            str(self.home),
            "--port",
            str(self.port),
        ]
        cmd += ["--region", self.region, "--log-level", "warning", *self.extra_args]
        env = dict(os.environ if self.env is None else self.env)
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self.log or subprocess.DEVNULL, stderr=subprocess.STDOUT, text=True
        )
        self.wait_ready(timeout)
        return self

    def health(self) -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/_sagelocal/health", timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            return None

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"sagelocal server exited with {self.proc.returncode}")
            if self.health() is not None:
                return
            time.sleep(0.05)
        raise TimeoutError(f"sagelocal server not ready on {self.endpoint_url} after {timeout}s")

    def credentials(self) -> dict[str, str]:
        """The administrator's keys, read from the profile the server wrote into its home."""
        import configparser

        creds = configparser.ConfigParser()
        creds.read(self.home / "aws" / "credentials")
        return dict(creds[PROFILE])

    def client_env(self) -> dict[str, str]:
        """Environment variables that point unchanged AWS clients at this server as admin."""
        c = self.credentials()
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": c["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": c["aws_secret_access_key"],
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: the crash a durability test needs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
