"""The demo's clean-up: delete exactly what this run created, then show that nothing billable is left."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from sagelocal.billing.cleanup import ENDPOINT, ENDPOINT_CONFIG, MODEL, NOTEBOOK, ROLE, Item, Rate, is_gone
from sagelocal.billing.cleanup_steps import Steps, StopRequest, Waits
from sagelocal.clients import ServerClients


def _steps(clients: ServerClients) -> Callable[[str, str], str]:
    """Run the clean-up's own step for one resource (stop, wait, delete, wait), without a plan."""
    steps = Steps(clients, lambda _line: None, StopRequest(), Waits())

    def delete(kind: str, name: str) -> str:
        return steps.run(Item(kind, name, clients.region, "", True, "", Rate(None, ""), "delete"))

    return delete


def _hosting(sm: Any, delete: Callable[[str, str], str], inside: dict[str, dict[str, Any]]) -> list[str]:
    """The endpoint, its configuration and the model, if the run stopped before deleting them."""
    cleaned = "clean" in inside and "error" not in inside["clean"]
    if cleaned or "deploy" not in inside or "error" in inside["deploy"]:
        return []
    name = inside["deploy"]["endpoint"]
    try:
        config = sm.describe_endpoint(EndpointName=name)["EndpointConfigName"]
        variants = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
        delete(ENDPOINT, name)
        delete(ENDPOINT_CONFIG, config)
        for variant in variants:
            delete(MODEL, variant["ModelName"])
    except ClientError as exc:
        if not is_gone(exc):
            raise
        return []
    return [f"endpoint {name}, its configuration and model"]


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


def delete_created(clients: ServerClients, created: Any) -> list[str]:
    """Delete, in dependency order, what the run created (as the administrator); what was deleted."""
    sm, s3 = clients.client("sagemaker"), clients.client("s3")
    delete = _steps(clients)
    deleted: list[str] = [*_hosting(sm, delete, created.inside)]

    def attempt(what: str, action: Callable[[], Any]) -> None:
        try:
            result = action()
        except ClientError as exc:
            if not is_gone(exc):
                raise
            return
        deleted.extend(result if isinstance(result, list) else [what])

    if created.bucket:
        attempt("", lambda: _bucket(s3, created.bucket, created.bucket_created))
    for other in created.other_buckets:
        attempt("", functools.partial(_bucket, s3, other, True))
    if created.notebook:
        attempt(
            f"notebook instance {created.notebook} and its volume", lambda: delete(NOTEBOOK, created.notebook)
        )
    if created.role:
        attempt(f"role {created.role}", lambda: delete(ROLE, created.role))
    return ["deleted " + item for item in deleted] or ["nothing to delete"]


def billable_lines(clients: ServerClients) -> tuple[int, list[str]]:
    """What `sagelocal cleanup` would still find billed in the region, and the lines saying so."""
    from sagelocal.billing.cleanup import inventory

    billed = [item for item in inventory(clients, [clients.region]) if item.billed]
    if not billed:
        return 0, ["none: nothing billable remains (as `sagelocal cleanup` reports it)"]
    return len(billed), [f"[red]{item.kind} {item.name}: {item.why}[/red]" for item in billed]
