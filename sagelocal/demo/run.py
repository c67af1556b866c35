"""`sagelocal demo`: the whole workflow, in the order users meet it, against a real server.

As the administrator: a SageMaker execution role with AmazonSageMakerFullAccess and a notebook
instance acting as it. From inside the instance (`inside.py`, run as its kernels run): bucket,
data, upload, built-in XGBoost training, endpoint, evaluation. Then what it would have cost on
AWS, and the clean-up, ending with proof that nothing billable remains (`--keep` leaves it all).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from sagelocal.clients import ServerClients, for_server
from sagelocal.demo import render
from sagelocal.demo.inside import EVENT
from sagelocal.demo.notebook_exec import EVENT as NOTEBOOK_EVENT
from sagelocal.launcher import ServerProcess

NOTEBOOK_TYPE = "ml.t3.medium"
TUTORIAL = "examples/bank-marketing-xgboost.ipynb"  # copied into every instance's volume
EXECUTED_NAME = "bank-marketing-xgboost.executed.ipynb"
MANAGED_POLICY = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


class DemoFailed(RuntimeError):
    """A step failed; the message says which and why."""


@dataclass
class DemoOptions:
    home: Path | None = None
    region: str = "ap-northeast-1"
    keep: bool = False
    bucket: str | None = None
    output: Path = field(default_factory=lambda: Path("sagelocal-demo"))
    tutorial: bool = True


@dataclass
class Created:
    """What this run made, so the clean-up deletes exactly that."""

    role: str | None = None
    notebook: str | None = None
    bucket: str | None = None
    bucket_created: bool = False
    other_buckets: list[str] = field(default_factory=list)
    inside: dict[str, dict[str, Any]] = field(default_factory=dict)
    notebook_run: dict[str, Any] | None = None


def running_server(home: Path) -> ServerProcess | None:
    """The server already running on `home`, if its record answers health checks (not started here)."""
    from sagelocal.home import read_server_record

    record = read_server_record(home)
    if record is None:
        return None
    server = ServerProcess(home, port=int(record["port"]), region=str(record["region"]))  # type: ignore[call-overload]
    return server if server.health() is not None else None


@contextmanager
def demo_server(options: DemoOptions, console: Console) -> Iterator[ServerProcess]:
    """A server of the demo's own, in the given home or a fresh temporary one (kept with --keep)."""
    started = time.perf_counter()
    if options.home is not None and (attached := running_server(options.home)) is not None:
        render.done(
            console, "Server (already running)", started, [f"{attached.endpoint_url} (home {options.home})"]
        )
        yield attached
        return
    home = options.home or Path(tempfile.mkdtemp(prefix="sagelocal-demo-"))
    with console.status("Starting the server…"), ServerProcess(home, region=options.region) as server:
        render.done(console, "Server", started, [f"{server.endpoint_url} (home {home})"])
        yield server
    if not options.keep and options.home is None:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


class Demo:
    def __init__(self, server: ServerProcess, options: DemoOptions, console: Console) -> None:
        creds = server.credentials()
        self.clients: ServerClients = for_server(
            server.endpoint_url, server.region, creds["aws_access_key_id"], creds["aws_secret_access_key"]
        )
        self.server, self.options, self.console = server, options, console
        self.created = Created()
        self.stamp = time.strftime("%Y%m%d-%H%M%S")
        self.started_at = time.time()

    def step(self, title: str, action: Any) -> Any:
        started = time.perf_counter()
        with self.console.status(f"{title}…"):
            result, lines = action()
        render.done(self.console, title, started, lines)
        return result

    def create_role(self) -> tuple[str, list[str]]:
        iam = self.clients.client("iam")
        name = f"AmazonSageMaker-ExecutionRole-{self.stamp}"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sagemaker.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        arn = iam.create_role(
            RoleName=name, Path="/service-role/", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        self.created.role = name
        iam.attach_role_policy(RoleName=name, PolicyArn=MANAGED_POLICY)
        return arn, [arn, "policy: AmazonSageMakerFullAccess (trusted by sagemaker.amazonaws.com)"]

    def create_notebook(self, role_arn: str) -> tuple[str, list[str]]:
        sm = self.clients.client("sagemaker")
        name = f"sagelocal-demo-{self.stamp}"
        sm.create_notebook_instance(
            NotebookInstanceName=name, InstanceType=NOTEBOOK_TYPE, RoleArn=role_arn, VolumeSizeInGB=5
        )
        self.created.notebook = name
        sm.get_waiter("notebook_instance_in_service").wait(
            NotebookInstanceName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 600}
        )
        desc = sm.describe_notebook_instance(NotebookInstanceName=name)
        return name, [f"{name}: {desc['NotebookInstanceStatus']}, {NOTEBOOK_TYPE}, 5 GB volume"]

    def run_inside(self, notebook: str) -> None:
        """`sagelocal notebook run` the workflow; each `@@demo` line becomes a finished step."""
        out = self.options.output.resolve()
        inner = [sys.executable, "-m", "sagelocal.demo.inside", str(out)]
        inner += ["--keep"] if self.options.keep else []
        inner += ["--bucket", self.options.bucket] if self.options.bucket else []
        argv = [sys.executable, "-m", "sagelocal", "notebook", "run", "--home", str(self.server.home)]
        argv += ["--region", self.server.region, notebook, "--", *inner]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        other: list[str] = []
        pending = render.inside_titles(self.options.keep)
        started = time.perf_counter()
        status = self.console.status(f"In the notebook instance: {pending[0] if pending else ''}…")
        status.start()
        try:
            for line in proc.stdout:
                at = line.find(EVENT)  # the SDK prints progress dots with no newline before it
                if at < 0:
                    other.append(line.rstrip())
                    continue
                event = json.loads(line[at + len(EVENT) :])
                self.created.inside[event["step"]] = event
                if event["step"] == "session":
                    self.created.bucket = event.get("bucket")
                    self.created.bucket_created = bool(event.get("created_bucket"))
                if event["step"] == "denied" and event.get("created_bucket"):
                    self.created.other_buckets.append(event["bucket"])
                status.stop()
                render.inside_step(self.console, event, started)
                if "error" in event:
                    raise DemoFailed(f"{event['step']}: {event['error']}\n" + "\n".join(other[-30:]))
                pending = pending[1:]
                started = time.perf_counter()
                if pending:
                    status.update(f"In the notebook instance: {pending[0]}…")
                    status.start()
        finally:
            status.stop()
            code = proc.wait()
        if code != 0:
            raise DemoFailed(f"the notebook's workflow exited with {code}:\n" + "\n".join(other[-30:]))

    def run_notebook(self, notebook: str) -> tuple[None, list[str]]:
        """The tutorial notebook every instance is offered, executed in it as its kernels run it."""
        out = self.options.output.resolve() / EXECUTED_NAME
        inner = [sys.executable, "-m", "sagelocal.demo.notebook_exec", TUTORIAL, f"examples/{EXECUTED_NAME}"]
        inner += ["--timeout", "300", "--copy-to", str(out)]
        argv = [sys.executable, "-m", "sagelocal", "notebook", "run", "--home", str(self.server.home)]
        argv += ["--region", self.server.region, notebook, "--", *inner]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        lines = [line for line in proc.stdout.splitlines() if line.startswith(NOTEBOOK_EVENT)]
        if not lines:
            raise DemoFailed(
                f"the tutorial notebook did not run:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
        report = json.loads(lines[-1][len(NOTEBOOK_EVENT) :])
        self.created.notebook_run = report
        if report["errors"] or proc.returncode != 0:
            raise DemoFailed(f"the tutorial notebook failed (executed copy: {out}): {report['errors']}")
        return None, [
            f"{TUTORIAL}: {report['cells']} cells, no errors, AUC {report['auc']:.4f}",
            f"executed copy with outputs: {out} (and examples/{EXECUTED_NAME} in the instance)",
        ]

    def cost(self) -> tuple[None, list[Any]]:
        from sagelocal.demo.costs import cost_lines

        return None, cost_lines(self.clients, self.started_at)

    def clean_up(self) -> tuple[None, list[str]]:
        from sagelocal.demo.teardown import delete_created

        return None, delete_created(self.clients, self.created)

    def remaining(self) -> tuple[int, list[str]]:
        from sagelocal.demo.teardown import billable_lines

        return billable_lines(self.clients)

    def run(self) -> int:
        try:
            role_arn = self.step("IAM role for SageMaker", self.create_role)
            notebook = self.step("Notebook instance", lambda: self.create_notebook(role_arn))
            self.run_inside(notebook)
            if self.options.tutorial:
                self.step("Run the tutorial notebook in the instance", lambda: self.run_notebook(notebook))
        except Exception:
            if not self.options.keep:  # leave nothing billed behind a failed run
                self.console.print("[yellow]Cleaning up what this run created…[/yellow]")
                self.step("Clean up", self.clean_up)
            raise
        self.step("What this would have cost on AWS", self.cost)
        if self.options.keep:
            self.record(remaining=None)
            render.kept(self.console, self.clients, self.created, self.server)
            return 0
        self.step("Clean up", self.clean_up)
        left = self.step("Billable resources left", self.remaining)
        self.record(remaining=left)
        return 0 if left == 0 else 1

    def record(self, remaining: int | None) -> None:
        """`<output>/run.json`: what ran, what it made and what is left, for scripts and tests."""
        out = self.options.output.resolve()
        out.mkdir(parents=True, exist_ok=True)
        record = {"endpoint_url": self.server.endpoint_url, "home": str(self.server.home)}
        record |= {"created": asdict(self.created), "billable_remaining": remaining}
        (out / "run.json").write_text(json.dumps(record, indent=1, default=str))


def run_demo(options: DemoOptions) -> int:
    console = Console()
    render.intro(console)
    try:
        with demo_server(options, console) as server:
            return Demo(server, options, console).run()
    except DemoFailed as exc:
        console.print(f"[red]Demo failed:[/red] {exc}")
        return 1
