"""The meter records real transitions: an endpoint's hosting usage opens at CreateEndpoint with
its variant's instance type and count, and closes when the endpoint is deleted; `sagelocal cost
--json` and the server's `/_sagelocal/cost` report it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

from tests.conftest import AwsClients
from tests.integration.hosting_support import (
    deploy,
    make_role,
    train_booster,
    unique,
    upload_model,
    wait_status,
)


def cost(aws: AwsClients, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGELOCAL_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "sagelocal", "cost", "--home", str(aws.server.home), "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def line_for(report: dict[str, Any], name: str) -> dict[str, Any]:
    (line,) = [x for x in report["lines"] if x["resource"] == f"endpoint/{name} [AllTraffic]"]
    return line


def test_endpoint_usage_opens_and_closes(aws: AwsClients) -> None:
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    bucket = unique("sagemaker-billing")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.session.region_name})
    url = upload_model(s3, bucket, train_booster(rows=60)[0])
    name = deploy(sm, make_role(aws), url, unique("ep-billing"), InitialInstanceCount=2)
    assert wait_status(sm, name, ("InService", "Failed"))["EndpointStatus"] == "InService"

    live = line_for(cost(aws, "--by", "resource", "--budget", "1000"), name)
    assert (live["open"], live["size"], live["size_unit"]) == (True, 2.0, "instances")
    assert (live["family"], live["instance_type"], live["region"]) == (
        "hosting",
        "ml.m5.large",
        "ap-northeast-1",
    )
    assert live["usd"] is None and live["note"] == "not priced (no published figure found)"  # Tokyo

    sm.delete_endpoint(EndpointName=name)
    deadline = time.monotonic() + 60
    while any(e["EndpointName"] == name for e in sm.list_endpoints(NameContains=name)["Endpoints"]):
        assert time.monotonic() < deadline, "the endpoint was not deleted"
        time.sleep(0.1)
    query = "by=resource&since=1h"
    with urllib.request.urlopen(f"{aws.server.endpoint_url}/_sagelocal/cost?{query}", timeout=30) as r:
        served = json.loads(r.read())
    done = line_for(served, name)
    assert done["open"] is False and done["size"] == 2.0
    assert done["quantity"] >= live["quantity"] > 0  # instance-hours: 2 x its lifetime
    buckets = {x["resource"] for x in served["lines"] if x["family"].startswith("s3_")}
    assert f"bucket/{bucket}" in buckets  # its requests and storage were metered too
