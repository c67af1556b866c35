"""The demo's clean-up: delete exactly what this run created, then show that nothing billable is left."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sagelocal.clients import ServerClients

WAIT = {"Delay": 0.5, "MaxAttempts": 600}


def _gone(exc: ClientError) -> bool:
    code = exc.response["Error"]["Code"]
    message = exc.response["Error"].get("Message", "")
    return (
        code in ("NoSuchEntity", "NoSuchBucket", "404")
        or "not found" in message.lower()
        or (code == "ValidationException" and "Could not find" in message)
    )


def _hosting(sm: Any, inside: dict[str, dict[str, Any]]) -> list[str]:
    """The endpoint, its configuration and the model, if the run stopped before deleting them."""
    cleaned = "clean" in inside and "error" not in inside["clean"]
    if cleaned or "deploy" not in inside or "error" in inside["deploy"]:
        return []
    name = inside["deploy"]["endpoint"]
    done = []
    try:
        config = sm.describe_endpoint(EndpointName=name)["EndpointConfigName"]
        models = [
            v["ModelName"]
            for v in sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
        ]
        sm.delete_endpoint(EndpointName=name)
        sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig=WAIT)
        sm.delete_endpoint_config(EndpointConfigName=config)
        for model in models:
            sm.delete_model(ModelName=model)
        done.append(f"endpoint {name}, its configuration and model")
    except ClientError as exc:
        if not _gone(exc):
            raise
    return done


def _bucket(s3: Any, bucket: str, delete_bucket: bool) -> list[str]:
    listing = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="sagelocal-demo/")
    keys = [{"Key": o["Key"]} for page in listing for o in page.get("Contents", [])]
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[start : start + 1000]})
    done = [f"{len(keys)} objects"] if keys else []
    if delete_bucket:
        if s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0):
            done.append(f"bucket {bucket} kept: it holds objects this run did not write")
        else:
            s3.delete_bucket(Bucket=bucket)
            done.append(f"bucket {bucket}")
    return done


def _notebook(sm: Any, name: str) -> list[str]:
    status = sm.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]
    if status in ("Pending", "Updating", "Stopping"):
        waiter = "notebook_instance_in_service" if status != "Stopping" else "notebook_instance_stopped"
        sm.get_waiter(waiter).wait(NotebookInstanceName=name, WaiterConfig=WAIT)
        status = sm.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]
    if status == "InService":
        sm.stop_notebook_instance(NotebookInstanceName=name)
        sm.get_waiter("notebook_instance_stopped").wait(NotebookInstanceName=name, WaiterConfig=WAIT)
    sm.delete_notebook_instance(NotebookInstanceName=name)
    sm.get_waiter("notebook_instance_deleted").wait(NotebookInstanceName=name, WaiterConfig=WAIT)
    return [f"notebook instance {name} and its volume"]


def _role(iam: Any, name: str) -> list[str]:
    for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)
    return [f"role {name}"]


def delete_created(clients: ServerClients, created: Any) -> list[str]:
    """Delete, in dependency order, what the run created (as the administrator); what was deleted."""
    sm, s3, iam = (clients.client(n) for n in ("sagemaker", "s3", "iam"))
    deleted: list[str] = [*_hosting(sm, created.inside)]
    for action, target in (
        (lambda b: _bucket(s3, b, created.bucket_created), created.bucket),
        *((lambda b: _bucket(s3, b, True), other) for other in created.other_buckets),
        (lambda n: _notebook(sm, n), created.notebook),
        (lambda r: _role(iam, r), created.role),
    ):
        if target is None:
            continue
        try:
            deleted += action(target)
        except ClientError as exc:
            if not _gone(exc):
                raise
    return ["deleted " + item for item in deleted] or ["nothing to delete"]


def billable_lines(clients: ServerClients) -> tuple[int, list[str]]:
    """What `sagelocal cleanup` would still find billed in the region, and the lines saying so."""
    from sagelocal.billing.cleanup import inventory

    billed = [item for item in inventory(clients, [clients.region]) if item.billed]
    if not billed:
        return 0, ["none: nothing billable remains (as `sagelocal cleanup` reports it)"]
    return len(billed), [f"[red]{item.kind} {item.name}: {item.why}[/red]" for item in billed]
