"""Endpoints under traffic: weighted variants, TargetVariant, an update that swaps models with no
failed invocation, a replica killed mid-traffic, and a server restart bringing endpoints back."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from sagelocal.launcher import ServerProcess
from tests.conftest import AwsClients
from tests.integration.hosting_support import (
    IMAGE,
    csv_rows,
    deploy,
    make_role,
    train_booster,
    unique,
    upload_model,
)

FAST = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture(scope="module")
def setup(aws: AwsClients) -> tuple[str, str, str, list[Any], np.ndarray]:
    """Role, two models in S3 (different boosters), and rows to predict."""
    s3 = aws.client("s3")
    bucket = unique("sagemaker-traffic")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.session.region_name})
    first, rows = train_booster(seed=1)
    second, _ = train_booster(seed=2)
    return (
        make_role(aws),
        upload_model(s3, bucket, first),
        upload_model(s3, bucket, second),
        [first, second],
        rows,
    )


def _scores(body: bytes) -> np.ndarray:
    return np.array([float(x) for x in body.decode().split()])


def _replicas(aws: AwsClients, endpoint: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(aws.server.endpoint_url + "/_sagelocal/endpoints") as response:
        live = json.loads(response.read())["Endpoints"]
    return [r for e in live if e["EndpointName"] == endpoint for v in e["Variants"] for r in v["Replicas"]]


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_weighted_variants_and_target_variant(aws: AwsClients, setup: Any) -> None:
    role, first_url, second_url, _, rows = setup
    sm, runtime = aws.client("sagemaker"), aws.client("sagemaker-runtime")
    name = unique("ep-weights")
    for label, url in (("a", first_url), ("b", second_url)):
        sm.create_model(
            ModelName=f"{name}-{label}",
            ExecutionRoleArn=role,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url},
        )
    variants = [
        {
            "VariantName": f"Variant{label.upper()}",
            "ModelName": f"{name}-{label}",
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": weight,
        }
        for label, weight in (("a", 3.0), ("b", 1.0))
    ]
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    body = csv_rows(rows[:1])
    counts = Counter(
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)[
            "InvokedProductionVariant"
        ]
        for _ in range(2000)
    )
    assert abs(counts["VariantA"] / 2000 - 0.75) <= 0.05, counts
    assert abs(counts["VariantB"] / 2000 - 0.25) <= 0.05, counts
    pinned = {
        runtime.invoke_endpoint(
            EndpointName=name, ContentType="text/csv", Body=body, TargetVariant="VariantB"
        )["InvokedProductionVariant"]
        for _ in range(20)
    }
    assert pinned == {"VariantB"}
    sm.update_endpoint_weights_and_capacities(
        EndpointName=name, DesiredWeightsAndCapacities=[{"VariantName": "VariantA", "DesiredWeight": 0.0}]
    )
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    weights = {
        v["VariantName"]: v["CurrentWeight"]
        for v in sm.describe_endpoint(EndpointName=name)["ProductionVariants"]
    }
    assert weights == {"VariantA": 0.0, "VariantB": 1.0}
    after = {
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)[
            "InvokedProductionVariant"
        ]
        for _ in range(20)
    }
    assert after == {"VariantB"}
    sm.delete_endpoint(EndpointName=name)


def test_update_endpoint_swaps_models_without_failed_invocations(aws: AwsClients, setup: Any) -> None:
    role, first_url, second_url, boosters, rows = setup
    sm, runtime = aws.client("sagemaker"), aws.client("sagemaker-runtime")
    name = deploy(sm, role, first_url, unique("ep-update"))
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    expected = [b.predict(xgb.DMatrix(rows[:3])) for b in boosters]
    body = csv_rows(rows[:3])
    failures: list[str] = []
    seen: list[int] = []
    stop = threading.Event()

    def invoke_continuously() -> None:
        client = aws.client("sagemaker-runtime")
        while not stop.is_set():
            try:
                got = _scores(
                    client.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)[
                        "Body"
                    ].read()
                )
            except Exception as exc:  # any failure during the swap is what this test forbids
                failures.append(repr(exc))
                continue
            matches = [i for i, e in enumerate(expected) if np.allclose(got, e, rtol=1e-6)]
            if not matches:
                failures.append(f"unexpected scores {got}")
            seen.extend(matches[:1])

    threads = [threading.Thread(target=invoke_continuously) for _ in range(2)]
    for t in threads:
        t.start()
    sm.create_model(
        ModelName=f"{name}-v2",
        ExecutionRoleArn=role,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": second_url},
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-v2",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-v2",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    time.sleep(0.5)
    sm.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v2")
    desc = sm.describe_endpoint(EndpointName=name)
    assert desc["EndpointStatus"] == "Updating"
    assert desc["PendingDeploymentSummary"]["EndpointConfigName"] == f"{name}-v2"
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert 0 in seen and 1 in seen and seen[-1] == 1  # old model before, new model after
    desc = sm.describe_endpoint(EndpointName=name)
    assert desc["EndpointConfigName"] == f"{name}-v2" and "PendingDeploymentSummary" not in desc
    got = _scores(
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)["Body"].read()
    )
    np.testing.assert_allclose(got, expected[1], rtol=1e-6)
    sm.delete_endpoint(EndpointName=name)


def test_killed_replica_is_restarted_and_endpoint_stays_in_service(aws: AwsClients, setup: Any) -> None:
    role, first_url, _, boosters, rows = setup
    sm, runtime = aws.client("sagemaker"), aws.client("sagemaker-runtime")
    name = deploy(sm, role, first_url, unique("ep-kill"), InitialInstanceCount=2)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
    body = csv_rows(rows[:2])
    expected = boosters[0].predict(xgb.DMatrix(rows[:2]))
    before = _replicas(aws, name)
    assert len(before) == 2 and all(r["Healthy"] for r in before)
    victim = before[0]
    os.kill(victim["Pid"], signal.SIGKILL)
    results = []
    for _ in range(200):  # traffic through the death and the restart
        results.append(
            _scores(
                runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)["Body"].read()
            )
        )
    assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = {r["InstanceId"]: r for r in _replicas(aws, name)}
        if after[victim["InstanceId"]]["Healthy"] and after[victim["InstanceId"]]["Pid"] != victim["Pid"]:
            break
        time.sleep(0.1)
    assert after[victim["InstanceId"]]["Restarts"] == 1 and after[victim["InstanceId"]]["Healthy"]
    for got in results:
        np.testing.assert_allclose(got, expected, rtol=1e-6)

    # scale out, then in: replicas follow DesiredInstanceCount and traffic keeps flowing
    for count in (3, 1):
        sm.update_endpoint_weights_and_capacities(
            EndpointName=name,
            DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": count}],
        )
        sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
        (variant,) = sm.describe_endpoint(EndpointName=name)["ProductionVariants"]
        assert variant["CurrentInstanceCount"] == count
        assert [r["Healthy"] for r in _replicas(aws, name)] == [True] * count
        body_out = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)[
            "Body"
        ].read()
        np.testing.assert_allclose(_scores(body_out), expected, rtol=1e-6)
    sm.delete_endpoint(EndpointName=name)


def test_server_restart_brings_endpoints_back(tmp_path: Path, setup: Any) -> None:
    _, _, _, boosters, rows = setup
    with ServerProcess(tmp_path / "home", log=(tmp_path / "s.log").open("w")) as srv:
        aws = AwsClients(srv)
        s3 = aws.client("s3")
        bucket = unique("sagemaker-restart")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": srv.region})
        role = make_role(aws)
        name = deploy(aws.client("sagemaker"), role, upload_model(s3, bucket, boosters[0]), "ep-survives")
        aws.client("sagemaker").get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST)
        old_pids = {r["Pid"] for r in _replicas(aws, name)}
        srv.kill()
        time.sleep(1.5)  # the orphaned replica notices its server is gone
        assert not any(_running(pid) for pid in old_pids)
        srv.start()
        sm = aws.client("sagemaker")
        assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
        body = (
            aws.client("sagemaker-runtime")
            .invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=csv_rows(rows[:2]))["Body"]
            .read()
        )
        np.testing.assert_allclose(_scores(body), boosters[0].predict(xgb.DMatrix(rows[:2])), rtol=1e-6)
