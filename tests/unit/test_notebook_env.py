"""A notebook instance's environment and clone directories: nothing of the server's identity leaks
in, and no repository URL can name a directory outside the volume."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from sagelocal.services.sagemaker.notebook_env import (
    CREDENTIALS_PATH,
    instance_environment,
    layout_for,
    prepare,
    read_environment,
)
from sagelocal.services.sagemaker.notebook_setup import clone_directory, run_lifecycle_script


def test_environment_carries_the_endpoint_and_credentials_url_but_no_keys(tmp_path: Path) -> None:
    layout = layout_for(tmp_path, "u7")
    base = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": "AKIASERVER",
        "AWS_SECRET_ACCESS_KEY": "server-secret",
        "AWS_PROFILE": "admin",
        "SAGELOCAL_HOME": "/srv/home",
        "JUPYTER_TOKEN": "x",
        "PYTHONPATH": "/elsewhere",
        "GITHUB_TOKEN": "ghp_secret",
        "LC_ALL": "C.UTF-8",
    }
    env = instance_environment(
        layout,
        endpoint_url="http://localhost:4570",
        region="us-west-2",
        name="nb",
        credentials_token="tok",
        mark="m1",
        base=base,
    )
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SECRET_ACCESS_KEY" not in env and "AWS_PROFILE" not in env
    assert "SAGELOCAL_HOME" not in env and "JUPYTER_TOKEN" not in env and "GITHUB_TOKEN" not in env
    assert env["LC_ALL"] == "C.UTF-8" and env["SAGELOCAL_PROCESS_MARK"] == "m1" and "GITHUB_TOKEN" not in env
    assert env["LC_ALL"] == "C.UTF-8" and env["SAGELOCAL_PROCESS_MARK"] == "m1"
    assert env["LANG"] == "C.UTF-8" and env["HOME"] == str(layout.root)
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:4570"
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:4570"
    assert (
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == "http://127.0.0.1:4570" + CREDENTIALS_PATH
    )  # loopback  # loopback
    assert env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == "tok"
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "us-west-2"
    assert env["PYTHONPATH"] == str(layout.python_dir)
    assert env["PATH"].endswith(":/usr/bin:/bin")


def test_prepare_writes_private_files(tmp_path: Path) -> None:
    layout = layout_for(tmp_path, "u3")
    env = {"HOME": str(layout.root)}
    prepare(
        layout, arn="arn:aws:sagemaker:r:1:notebook-instance/nb", name="nb", auth_secret="s3cret", env=env
    )
    assert layout.volume.is_dir()
    assert stat.S_IMODE(layout.private.stat().st_mode) == 0o700
    for path in (layout.secret_file, layout.environment_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert layout.secret_file.read_text() == "s3cret"
    assert read_environment(layout) == env
    assert '"ResourceName": "nb"' in layout.metadata_file.read_text()
    assert "autopatch.install()" in (layout.python_dir / "sitecustomize.py").read_text()


@pytest.mark.parametrize(
    ("url", "directory"),
    [
        ("https://github.com/aws/amazon-sagemaker-examples.git", "amazon-sagemaker-examples"),
        ("file:///srv/repos/analysis/", "analysis"),
        ("/srv/repos/helpers.git", "helpers"),
        ("https://example.com/..", "repository"),
        ("file:///x/.", "repository"),
        ("https://example.com/.git", "repository"),
    ],
)
def test_clone_directory_stays_inside_the_volume(url: str, directory: str) -> None:
    assert clone_directory(url) == directory


def test_lifecycle_script_time_limit_kills_its_children(tmp_path: Path) -> None:
    lines: list[str] = []
    marker = tmp_path / "late"
    script = f"(sleep 1; touch {marker}) &\nsleep 30\n"
    reason = run_lifecycle_script(
        script, "OnStart", {"PATH": "/usr/bin:/bin"}, tmp_path, 0.5, lines.append, "lcc-arn", "nb-arn"
    )
    assert (
        reason is not None and "'lcc-arn' for Notebook Instance 'nb-arn' took longer than 5 minutes" in reason
    )
    assert lines[-1] == "Lifecycle script OnStart ran longer than 0.5 seconds and was stopped."
    time.sleep(1.5)
    assert not marker.exists()  # the background child died with the script
