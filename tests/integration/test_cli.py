"""The `sagelocal` command as a user runs it: smoke, env (keys and profile), health."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sagelocal.launcher import ServerProcess
from tests.conftest import AWS_CLI

SAGELOCAL = [sys.executable, "-m", "sagelocal"]


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def test_smoke_runs_the_main_job() -> None:
    env = _clean_env() | {"COLUMNS": "250"}  # one table row per line
    proc = subprocess.run([*SAGELOCAL, "smoke"], capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ":assumed-role/" in proc.stdout and "3 events read back" in proc.stdout
    assert "1,000,000 bytes written and read back" in proc.stdout
    assert "FAILED" not in proc.stdout


def test_env_points_the_aws_cli_at_the_server(server: ServerProcess) -> None:
    for flag in ([], ["--profile"]):
        script = f'eval "$({" ".join(SAGELOCAL)} env --home {server.home} {" ".join(flag)})" && {AWS_CLI} sts get-caller-identity'
        proc = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=120, env=_clean_env()
        )
        assert proc.returncode == 0, proc.stderr
        ident = json.loads(proc.stdout)
        assert ident["Arn"] == f"arn:aws:iam::{server.health()['account_id']}:user/admin"


def test_home_keeps_its_account_across_restarts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with ServerProcess(home) as first:
        health = first.health()
        keys = first.credentials()
    assert health is not None and health["status"] == "ok" and health["region"] == "ap-northeast-1"
    with ServerProcess(home) as second:
        again = second.health()
        assert again is not None and again["account_id"] == health["account_id"]
        assert second.credentials() == keys
    assert oct((home / "aws" / "credentials").stat().st_mode & 0o777) == "0o600"


def test_second_server_on_the_same_home_is_refused(server: ServerProcess) -> None:
    proc = subprocess.run(
        [*SAGELOCAL, "server", "--home", str(server.home), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_env(),
    )
    assert proc.returncode == 1
    assert f"another sagelocal server is using {server.home}" in proc.stderr
    assert server.health() is not None  # the first one is untouched
