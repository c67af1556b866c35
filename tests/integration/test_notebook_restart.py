"""A server that crashes takes its notebook servers with it (no orphan keeps a port), and when it
starts again its InService instances come back InService: OnStart runs again, as on AWS after a
reboot, and nothing in the volume is lost."""

from __future__ import annotations

import http.client
import os
import socket
import time
from pathlib import Path

import pytest

from sagelocal.launcher import ServerProcess
from tests.conftest import AwsClients
from tests.integration.notebook_support import lifecycle_config, run_inside, unique, wait
from tests.integration.role_support import sagemaker_role

pytestmark = pytest.mark.slow


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def jupyter_port(url: str) -> int:
    """The port of the JupyterLab an instance's Url sends a browser to."""
    host, _, path = url.partition("/")
    conn = http.client.HTTPConnection(host, timeout=5)
    conn.request("GET", "/" + path)
    location = conn.getresponse().getheader("Location") or ""
    conn.close()
    return int(location.split(":")[2].split("/")[0])


def test_instances_survive_a_server_crash(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with (tmp_path / "server.log").open("w") as log:
        first = ServerProcess(home, env=dict(os.environ), log=log).start()
        try:
            aws = AwsClients(first)
            sm = aws.client("sagemaker")
            account = aws.client("sts").get_caller_identity()["Account"]
            role = sagemaker_role(aws.client("iam"), account, unique("nb-role"))
            lcc = lifecycle_config(sm, on_start='date >> "$HOME/SageMaker/starts.txt"')
            name = unique("nb-keep")
            sm.create_notebook_instance(
                NotebookInstanceName=name, InstanceType="ml.t2.medium", RoleArn=role, LifecycleConfigName=lcc
            )
            wait(sm, "notebook_instance_in_service", name)
            assert run_inside(aws, name, "sh", "-c", "echo precious > work.txt").returncode == 0
            port = jupyter_port(sm.describe_notebook_instance(NotebookInstanceName=name)["Url"])
            assert _answers(port)
        finally:
            first.kill()
        # The notebook server notices its parent is gone and ends with everything it started.
        deadline = time.monotonic() + 10
        while _answers(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _answers(port)

        second = ServerProcess(home, port=first.port, env=dict(os.environ), log=log).start()
        try:
            aws = AwsClients(second)
            sm = aws.client("sagemaker")
            wait(sm, "notebook_instance_in_service", name)
            inside = run_inside(aws, name, "sh", "-c", "cat work.txt; wc -l < starts.txt")
            assert inside.stdout.split() == ["precious", "2"], inside.stdout + inside.stderr
            sm.stop_notebook_instance(NotebookInstanceName=name)
            wait(sm, "notebook_instance_stopped", name)
            sm.delete_notebook_instance(NotebookInstanceName=name)
            wait(sm, "notebook_instance_deleted", name)
        finally:
            second.stop()
