"""What authorization costs per request: the same calls to a server with IAM enforcement on and to
one with it off, in one run.

Both servers get the same IAM user holding 10 customer managed policies of 20 statements each
(a mix of s3, sagemaker, logs and iam actions, resource patterns and conditions; one statement
allows the call). The call is SageMaker ListModels, sent by a raw keep-alive HTTP client as one
request SigV4-signed once (both servers verify the signature every time); calls to the two
servers are interleaved in 10 rounds. The difference of the p50s is the authorization step:
mapping the operation to its IAM action, the principal's compiled policies (cached for 1 s) and
the evaluation. For scale, `evaluate()` on the same policies is also timed in-process.

Target (issue 7): the authorization step adds under 0.2 ms at p50.

    .venv/bin/python bench/authz.py [--calls 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
from loadgen import http_caller, interleaved_latency  # noqa: E402

from sagelocal.launcher import ServerProcess  # noqa: E402
from sagelocal.services.iam.policy import AuthzRequest, compile_policy, evaluate  # noqa: E402

REGION = "ap-northeast-1"
SERVICES = ("s3", "sagemaker", "logs", "iam")


def policy_documents(account: str) -> list[dict[str, Any]]:
    """10 policies x 20 statements; the last statement of the last policy allows ListModels."""
    docs = []
    for p in range(10):
        statements: list[dict[str, Any]] = []
        for s in range(20):
            service = SERVICES[(p + s) % len(SERVICES)]
            statement: dict[str, Any] = {
                "Sid": f"P{p}S{s}",
                "Effect": "Allow" if s % 5 else "Deny",
                "Action": [f"{service}:Get*", f"{service}:Describe*", f"{service}:Put{p}{s}*"],
                "Resource": [
                    f"arn:aws:{service}:*:{account}:thing-{p}-{s}/*",
                    f"arn:aws:{service}:::bucket-{p}{s}*",
                ],
            }
            if s % 3 == 0:
                statement["Condition"] = {"StringLike": {"aws:PrincipalTag/team": [f"team-{p}-*"]}}
            statements.append(statement)
        docs.append({"Version": "2012-10-17", "Statement": statements})
    docs[-1]["Statement"][-1] = {
        "Sid": "ListModels",
        "Effect": "Allow",
        "Action": "sagemaker:ListModels",
        "Resource": "*",
    }
    return docs


def prepare(server: ServerProcess) -> tuple[str, dict[str, str], str]:
    """The user with its 10 policies; its keys and ARN."""
    session = boto3.Session(region_name=REGION, **server.credentials())
    iam = session.client("iam", endpoint_url=server.endpoint_url)
    account = session.client("sts", endpoint_url=server.endpoint_url).get_caller_identity()["Account"]
    user = iam.create_user(UserName="bench")["User"]["Arn"]
    for i, doc in enumerate(policy_documents(account)):
        arn = iam.create_policy(PolicyName=f"bench-{i}", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="bench", PolicyArn=arn)
    key = iam.create_access_key(UserName="bench")["AccessKey"]
    return (
        user,
        {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]},
        account,
    )


def signed_list_models(server: ServerProcess, creds: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = b"{}"
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.ListModels"}
    request = AWSRequest("POST", server.endpoint_url + "/", data=body, headers=headers)
    SigV4Auth(boto3.Session(**creds).get_credentials(), "sagemaker", REGION).add_auth(request)
    return body, dict(request.headers.items())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sagelocal-bench-authz-"))
    calls = {}
    servers = []
    try:
        for mode in ("on", "off"):
            env = dict(os.environ) | {"SAGELOCAL_IAM_ENFORCEMENT": mode}
            server = ServerProcess(tmp / f"home-{mode}", env=env, log=(tmp / f"{mode}.log").open("w")).start()
            servers.append(server)
            user, creds, account = prepare(server)
            body, headers = signed_list_models(server, creds)
            calls[f"enforcement {mode}"] = http_caller(server.endpoint_url, "/", body, headers)
        stats = interleaved_latency(calls, args.calls)
    finally:
        for server in servers:
            server.stop()

    compiled = [compile_policy(doc, f"bench-{i}") for i, doc in enumerate(policy_documents(account))]
    request = AuthzRequest(user, account, "sagemaker:ListModels", "*", {"aws:SecureTransport": "false"})
    times = []
    for _ in range(args.calls):
        t0 = time.perf_counter()
        decision = evaluate(request, compiled)
        times.append((time.perf_counter() - t0) * 1000)
    assert decision.allowed

    on, off = stats["enforcement on"], stats["enforcement off"]
    print(
        f"ListModels as a user with 10 policies x 20 statements, {args.calls} calls per server, interleaved\n"
    )
    print("| server | p50 ms | p99 ms |")
    print("|---|---:|---:|")
    for name, s in stats.items():
        print(f"| {name} | {s['p50']:.3f} | {s['p99']:.3f} |")
    print(f"\nauthorization adds {on['p50'] - off['p50']:+.3f} ms at p50 (target < 0.2 ms)")
    print(f"evaluate() alone, in-process: p50 {statistics.median(times) * 1000:.1f} µs")


if __name__ == "__main__":
    main()
