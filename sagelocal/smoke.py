"""`sagelocal smoke`: start a server in a fresh (or given) home and drive it with unchanged boto3.

Until `sagelocal demo` exists this is the README's main job: it shows that the server speaks
STS, IAM, CloudWatch Logs and S3 to real clients, with timings.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console
from rich.table import Table

from sagelocal.launcher import ServerProcess

TRUST_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _steps(session: boto3.Session) -> list[tuple[str, Callable[[], str]]]:
    sts, iam, logs, s3 = (session.client(name) for name in ("sts", "iam", "logs", "s3"))
    role_name = f"SmokeSageMakerRole-{int(time.time())}"
    group = "/sagelocal/smoke"
    state: dict[str, Any] = {}

    def whoami() -> str:
        return sts.get_caller_identity()["Arn"]

    def create_role() -> str:
        # SageMaker may assume it, and so may this account's principals allowed sts:AssumeRole
        # (the administrator here), to act as the role the way a notebook's kernel does.
        account = sts.get_caller_identity()["Account"]
        trust = json.loads(json.dumps(TRUST_SAGEMAKER))
        trust["Statement"][0]["Principal"]["AWS"] = f"arn:aws:iam::{account}:root"
        role = iam.create_role(
            RoleName=role_name, Path="/service-role/", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]
        iam.attach_role_policy(
            RoleName=role_name, PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
        )
        state["role_arn"] = role["Arn"]
        return role["Arn"]

    def assume_role() -> str:
        creds = sts.assume_role(RoleArn=state["role_arn"], RoleSessionName="SageMaker")["Credentials"]
        as_role = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=session.region_name,
        )
        return as_role.client("sts").get_caller_identity()["Arn"]

    def write_logs() -> str:
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="smoke")
        now = int(time.time() * 1000)
        events = [{"timestamp": now + i, "message": f"line {i}"} for i in range(3)]
        logs.put_log_events(logGroupName=group, logStreamName="smoke", logEvents=events)
        got = logs.get_log_events(logGroupName=group, logStreamName="smoke", startFromHead=True)["events"]
        return f"{len(got)} events read back: " + ", ".join(e["message"] for e in got)

    def use_s3() -> str:
        bucket = f"sagemaker-smoke-{int(time.time())}"
        config = {"LocationConstraint": session.region_name}
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=config)
        state["bucket"] = bucket
        payload = b"age,job,y\n" * 100_000  # 1 MB
        s3.put_object(Bucket=bucket, Key="data/train.csv", Body=payload)
        got = s3.get_object(Bucket=bucket, Key="data/train.csv")["Body"].read()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="data/")["Contents"]]
        assert got == payload, "object read back differs"
        return f"s3://{bucket}: {len(got):,} bytes written and read back; keys {keys}"

    def clean_up() -> str:
        if "bucket" in state:
            s3.delete_object(Bucket=state["bucket"], Key="data/train.csv")
            s3.delete_bucket(Bucket=state["bucket"])
        logs.delete_log_group(logGroupName=group)
        iam.detach_role_policy(
            RoleName=role_name, PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
        )
        iam.delete_role(RoleName=role_name)
        return "bucket, role and log group deleted"

    return [
        ("STS GetCallerIdentity", whoami),
        ("IAM CreateRole + AttachRolePolicy", create_role),
        ("STS AssumeRole, then call as the role", assume_role),
        ("CloudWatch Logs put/get events", write_logs),
        ("S3 create bucket, put/get/list object", use_s3),
        ("Clean up", clean_up),
    ]


def _drive(server: ServerProcess, console: Console) -> int:
    # What `eval "$(sagelocal env)"` does for a shell: unchanged boto3 then finds the server.
    os.environ.update(server.client_env())
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    session = boto3.Session()
    table = Table(title="sagelocal smoke run")
    table.add_column("step")
    table.add_column("result", overflow="fold")
    table.add_column("ms", justify="right")
    failed = 0
    for name, step in _steps(session):
        start = time.perf_counter()
        try:
            result = step()
        except Exception as exc:
            result, failed = f"[red]FAILED: {exc}[/red]", failed + 1
        table.add_row(name, result, f"{(time.perf_counter() - start) * 1000:.1f}")
    console.print(table)
    return 1 if failed else 0


def run_smoke(home: Path | None, region: str) -> int:
    """Run the smoke steps against a server in `home` (a temporary one when None)."""
    console = Console()
    with tempfile.TemporaryDirectory(prefix="sagelocal-smoke-") as tmp:
        start = time.perf_counter()
        with ServerProcess(home or Path(tmp), region=region) as server:
            ms = (time.perf_counter() - start) * 1000
            console.print(f"server ready on {server.endpoint_url} in {ms:.0f} ms (home {server.home})")
            return _drive(server, console)
