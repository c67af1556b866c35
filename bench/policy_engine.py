"""Time `evaluate()` for a principal with 10 policies of 20 statements (`.venv/bin/python bench/policy_engine.py`).

The shapes are for `bench/authz.py` to reuse: `mixed` spreads the statements over ten services (the
common case: the service index leaves 20 to check), `worst` makes all 200 S3 statements whose
actions match and whose resources do not (every statement is checked, and the request is denied).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sagelocal.services.iam.policy.compile import compile_policy
from sagelocal.services.iam.policy.engine import evaluate
from sagelocal.services.iam.policy.model import AuthzRequest, CompiledPolicy

SERVICES = ["s3", "sagemaker", "logs", "ecr", "iam", "ec2", "cloudwatch", "kms", "sts", "glue"]
ACCOUNT = "123456789012"
CONTEXT = {
    "aws:SourceIp": "10.1.2.3",
    "aws:SecureTransport": "true",
    "aws:userid": "AIDAEXAMPLE",
    "aws:CurrentTime": "2026-01-01T00:00:00Z",
    "aws:RequestTag/team": "x",
}


def policies(worst: bool, count: int = 10, statements: int = 20) -> list[CompiledPolicy]:
    out = []
    for i in range(count):
        stmts: list[dict[str, Any]] = []
        for j in range(statements):
            svc = "s3" if worst else SERVICES[(i + j) % len(SERVICES)]
            actions = (
                [f"{svc}:Get*", f"{svc}:Put*", f"{svc}:List*"]
                if worst
                else [f"{svc}:Get*", f"{svc}:Describe*"]
            )
            st: dict[str, Any] = {
                "Sid": f"S{i}x{j}",
                "Effect": "Deny" if j == statements - 1 else "Allow",
                "Action": actions,
                "Resource": [f"arn:aws:{svc}:::bucket-{i}-{j}/*", f"arn:aws:{svc}:::*team{i}{j}*"],
            }
            if j % 4 == 0:
                st["Condition"] = {
                    "StringEquals": {"aws:RequestTag/team": [f"t{i}", f"u{j}"]},
                    "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
                }
            if j % 5 == 0:
                st["Resource"] = f"arn:aws:{svc}:::home/${{aws:username}}/*"
            stmts.append(st)
        out.append(compile_policy({"Version": "2012-10-17", "Statement": stmts}, f"policy-{i}"))
    return out


def measure(worst: bool, n: int = 20000) -> tuple[float, float]:
    """(p50, p99) in microseconds of one evaluate(), request construction excluded."""
    pols = policies(worst)
    times = []
    for k in range(n):
        req = AuthzRequest(
            f"arn:aws:iam::{ACCOUNT}:user/alice",
            ACCOUNT,
            "s3:GetObject",
            f"arn:aws:s3:::some-bucket/key-{k % 100}",
            CONTEXT,
        )
        t0 = time.perf_counter_ns()
        evaluate(req, pols)
        times.append(time.perf_counter_ns() - t0)
    times.sort()
    return statistics.median(times) / 1000, times[int(len(times) * 0.99)] / 1000


if __name__ == "__main__":
    for worst in (False, True):
        p50, p99 = measure(worst)
        shape = (
            "worst: 200 S3 statements checked, denied"
            if worst
            else "mixed: 10 services, 20 statements checked"
        )
        print(f"10 policies x 20 statements, {shape}: p50 {p50:.1f} us, p99 {p99:.1f} us")
