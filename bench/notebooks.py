"""How fast a notebook instance becomes usable: Create → InService and Start → InService (no
lifecycle scripts), against the baseline of starting the same JupyterLab by hand (process start
→ first answer), measured in the same run. AWS takes minutes for either transition.

``.venv/bin/python bench/notebooks.py [--runs N]`` starts a sagelocal server in a temporary home,
polls DescribeNotebookInstance every 50 ms, and prints the medians and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sagelocal.compute.replicas import free_port
from sagelocal.launcher import ServerProcess
from sagelocal.notebook_server.launch import jupyter_command, jupyter_environment, ready_path
from tests.conftest import AwsClients
from tests.integration.role_support import sagemaker_role


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", ready_path())
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def bare_jupyter(root: Path) -> float:
    """Seconds from starting JupyterLab directly to its first answer."""
    port = free_port()
    (root / "vol").mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root)} | jupyter_environment(root / "jupyter")
    env |= {"SAGELOCAL_NOTEBOOK_INSTANCE": "bench", "SAGELOCAL_NOTEBOOK_AUTH_SECRET_FILE": str(root / "s")}
    (root / "s").write_text("secret")
    started = time.monotonic()
    proc = subprocess.Popen(
        jupyter_command(port, root / "vol"),
        env=env,
        cwd=root / "vol",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _answers(port):
            if proc.poll() is not None:
                raise RuntimeError("JupyterLab exited")
            time.sleep(0.05)
        return time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(10)


def until(sm: object, name: str, status: str) -> None:
    while True:
        current = sm.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]  # type: ignore[attr-defined]
        if current == status:
            return
        if current == "Failed":
            raise RuntimeError(f"{name} failed")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp) / "home") as server:
        aws = AwsClients(server)
        sm = aws.client("sagemaker")
        account = aws.client("sts").get_caller_identity()["Account"]
        role = sagemaker_role(aws.client("iam"), account, "bench-notebook-role")
        bare, create, start = [], [], []
        for i in range(args.runs):
            bare.append(bare_jupyter(Path(tmp) / f"bare{i}"))
            name = f"bench-{i}"
            t0 = time.monotonic()
            sm.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t2.medium", RoleArn=role)
            until(sm, name, "InService")
            create.append(time.monotonic() - t0)
            sm.stop_notebook_instance(NotebookInstanceName=name)
            until(sm, name, "Stopped")
            t0 = time.monotonic()
            sm.start_notebook_instance(NotebookInstanceName=name)
            until(sm, name, "InService")
            start.append(time.monotonic() - t0)
            sm.stop_notebook_instance(NotebookInstanceName=name)
            until(sm, name, "Stopped")
            sm.delete_notebook_instance(NotebookInstanceName=name)
    base = statistics.median(bare)
    print(f"runs: {args.runs}")
    print(f"bare JupyterLab start → first answer: median {base:.2f} s  {[round(x, 2) for x in bare]}")
    for label, samples in (("Create → InService", create), ("Start → InService", start)):
        med = statistics.median(samples)
        print(
            f"{label}: median {med:.2f} s  {[round(x, 2) for x in samples]}  "
            f"ratio to bare {med / base:.2f}  target < 5 s: {'met' if med < 5 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
