"""Clean-up: every resource in a region, whether and why it is billed at what rate, and a plan that
deletes the billed ones (or all) in dependency order.

A client of the server's public AWS API, as the administrator, exactly like a user's script: it
only lists, describes, stops and deletes through boto3. Running it is idempotent — a resource
already gone (any NotFound answer) counts as done — so a run stopped part way is resumed by running
it again (`cleanup_steps.execute` handles SIGINT/SIGTERM between resources).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sagelocal.billing.prices import HOURS_PER_MONTH
from sagelocal.clients import ServerClients

TRAINING, TRANSFORM, ENDPOINT = "training-job", "transform-job", "endpoint"
ENDPOINT_CONFIG, MODEL, NOTEBOOK, BUCKET = "endpoint-config", "model", "notebook-instance", "bucket"
LIFECYCLE, CODE_REPOSITORY, ROLE = "lifecycle-config", "code-repository", "role"
# Deletion order: what uses a resource goes before it (jobs write to buckets, endpoints use
# configs and models, notebooks use lifecycle configs, repositories and roles).
ORDER = (TRAINING, TRANSFORM, ENDPOINT, ENDPOINT_CONFIG, MODEL, NOTEBOOK, BUCKET)
ORDER += (LIFECYCLE, CODE_REPOSITORY, ROLE)
DEFAULT_VOLUME_GB = 5
GLOBAL = "global"
_NOT_FOUND_CODES = {"NoSuchEntity", "NoSuchBucket", "NoSuchUpload", "NoSuchKey", "ResourceNotFound", "404"}
_NOT_FOUND_TEXT = re.compile(
    r"could not find|cannot find|does not exist|recordnotfound|not found", re.IGNORECASE
)


def is_gone(exc: ClientError) -> bool:
    """Whether an error answer says the resource does not exist (any service's way of saying so)."""
    err = exc.response.get("Error", {})
    code, message = str(err.get("Code", "")), str(err.get("Message", ""))
    if code in _NOT_FOUND_CODES:
        return True
    return code == "ValidationException" and bool(_NOT_FOUND_TEXT.search(message))


@dataclass
class Rate:
    """An hourly rate in USD (None: not priced) and how it is made up, or why it is not priced."""

    usd: float | None
    note: str

    @staticmethod
    def total(parts: list[Rate]) -> Rate:
        if not parts:
            return Rate(0.0, "free")
        note = " + ".join(p.note for p in parts)
        if any(p.usd is None for p in parts):
            return Rate(None, note)
        return Rate(sum(p.usd or 0.0 for p in parts), note)


class Rates:
    """Hourly rates from the price table (`sagelocal.billing.prices`); storage priced per GB-month
    becomes hourly at 730 hours a month. Notes stay short; `used` keeps the full label (basis and
    as-of date) of every figure used, for the report's footnote."""

    def __init__(self, table: Any | None, problem: str = "") -> None:
        self.table, self.problem = table, problem
        self.used: dict[str, str] = {}

    @classmethod
    def load(cls) -> Rates:
        try:
            from sagelocal.billing.prices import PriceTable

            return cls(PriceTable.load())
        except Exception as exc:  # any failure leaves rates unpriced, with the reason
            return cls(None, f"price table unavailable: {exc}")

    def _seen(self, key: str, price: Any) -> str:
        self.used[key] = price.label()
        return " (PROXY)" if getattr(price, "is_proxy", False) else ""

    def instances(self, region: str, family: str, instance_type: str | None, count: int) -> Rate:
        if self.table is None:
            return Rate(None, f"not priced ({self.problem})")
        price = self.table.hourly(region, family, instance_type) if instance_type else None
        if price is None:
            return Rate(None, f"{family} {instance_type}: not priced in {region}")
        proxy = self._seen(f"{family} {instance_type} {region}", price)
        return Rate(float(price.usd) * count, f"{count} x ${float(price.usd):g}/h{proxy}")

    def storage(self, region: str, family: str, gb: float, shown: str | None = None) -> Rate:
        if self.table is None:
            return Rate(None, f"not priced ({self.problem})")
        price = self.table.storage_gb_month(region, family)
        if price is None:
            return Rate(None, f"{family}: not priced in {region}")
        proxy = self._seen(f"{family} {region}", price)
        hourly = float(price.usd) * gb / HOURS_PER_MONTH
        return Rate(hourly, f"{shown or f'{gb:g} GB'} x ${float(price.usd):g}/GB-month{proxy}")


@dataclass
class Item:
    """One resource: what it is, whether and why it is billed, its rate, and what clean-up does."""

    kind: str
    name: str
    region: str
    state: str
    billed: bool
    why: str
    rate: Rate
    action: str
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["usd_per_hour"], out["rate"] = self.rate.usd, self.rate.note
        return out


def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])


def _describe(call: Any, **params: Any) -> dict[str, Any] | None:
    """A Describe answer, or None when the resource went away meanwhile."""
    try:
        return dict(call(**params))
    except ClientError as exc:
        if is_gone(exc):
            return None
        raise


def _jobs(sm: Any, region: str, rates: Rates) -> Iterator[Item]:
    for kind, noun, family, resources in (
        (TRAINING, "TrainingJob", "training", "ResourceConfig"),
        (TRANSFORM, "TransformJob", "transform", "TransformResources"),
    ):
        lister = "list_training_jobs" if kind == TRAINING else "list_transform_jobs"
        for summary in _pages(sm, lister, f"{noun}Summaries", StatusEquals="InProgress"):
            name = summary[f"{noun}Name"]
            describe = sm.describe_training_job if kind == TRAINING else sm.describe_transform_job
            desc = _describe(describe, **{f"{noun}Name": name})
            if desc is None:
                continue
            res = desc.get(resources, {})
            itype, count = res.get("InstanceType"), int(res.get("InstanceCount", 1))
            rate = rates.instances(region, family, itype, count)
            why = f"running on {count} x {itype}"
            yield Item(kind, name, region, desc[f"{noun}Status"], True, why, rate, "stop")


def _endpoints(sm: Any, region: str, rates: Rates) -> Iterator[Item]:
    for summary in _pages(sm, "list_endpoints", "Endpoints"):
        desc = _describe(sm.describe_endpoint, EndpointName=summary["EndpointName"])
        if desc is None:
            continue
        config = _describe(sm.describe_endpoint_config, EndpointConfigName=desc["EndpointConfigName"])
        specs = {v["VariantName"]: v for v in (config or {}).get("ProductionVariants", [])}
        variants = desc.get("ProductionVariants") or [
            {"VariantName": n, "CurrentInstanceCount": s.get("InitialInstanceCount", 0)}
            for n, s in specs.items()
        ]
        parts, counts = [], []
        for variant in variants:
            spec = specs.get(variant["VariantName"], {})
            if "ServerlessConfig" in spec or "CurrentServerlessConfig" in variant:
                parts.append(
                    Rate(None, f"{variant['VariantName']}: serverless, not priced (billed per request)")
                )
                continue
            count = int(variant.get("CurrentInstanceCount", variant.get("DesiredInstanceCount", 0)))
            itype = spec.get("InstanceType")
            counts.append(f"{count} x {itype}")
            parts.append(rates.instances(region, "hosting", itype, count))
        why = f"every instance while it exists: {', '.join(counts) or 'no instances'}"
        rate = Rate.total(parts)
        yield Item(ENDPOINT, desc["EndpointName"], region, desc["EndpointStatus"], True, why, rate, "delete")


def _notebooks(sm: Any, region: str, rates: Rates) -> Iterator[Item]:
    for summary in _pages(sm, "list_notebook_instances", "NotebookInstances"):
        desc = _describe(sm.describe_notebook_instance, NotebookInstanceName=summary["NotebookInstanceName"])
        if desc is None:
            continue
        status, itype = desc["NotebookInstanceStatus"], desc.get("InstanceType")
        gb = desc.get("VolumeSizeInGB", DEFAULT_VOLUME_GB)
        volume = rates.storage(region, "ml_storage", gb)
        if status in ("Stopped", "Failed", "Deleting"):
            why, rate = f"{status.lower()}: {gb} GB volume only", volume
            action = "delete" if status != "Deleting" else "wait until deleted"
        else:  # Pending, InService, Updating, Stopping: the instance runs
            why = f"running ({status}): compute ({itype}) + {gb} GB volume"
            rate = Rate.total([rates.instances(region, "notebook_instance", itype, 1), volume])
            action = "stop, delete"
        yield Item(NOTEBOOK, desc["NotebookInstanceName"], region, status, True, why, rate, action)


def _free(sm: Any, region: str) -> Iterator[Item]:
    for kind, lister, key, member, why in (
        (MODEL, "list_models", "Models", "ModelName", "free (costs only when deployed)"),
        (ENDPOINT_CONFIG, "list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "free"),
        (
            LIFECYCLE,
            "list_notebook_instance_lifecycle_configs",
            "NotebookInstanceLifecycleConfigs",
            "NotebookInstanceLifecycleConfigName",
            "free",
        ),
        (
            CODE_REPOSITORY,
            "list_code_repositories",
            "CodeRepositorySummaryList",
            "CodeRepositoryName",
            "free",
        ),
    ):
        for summary in _pages(sm, lister, key):
            yield Item(kind, summary[member], region, "-", False, why, Rate(0.0, "free"), "delete")


def bucket_usage(s3: Any, bucket: str) -> tuple[int, int, int]:
    """(objects, bytes, incomplete multipart uploads) in `bucket`."""
    objects = size = 0
    for obj in _pages(s3, "list_objects_v2", "Contents", Bucket=bucket):
        objects, size = objects + 1, size + int(obj.get("Size", 0))
    uploads = sum(1 for _ in _pages(s3, "list_multipart_uploads", "Uploads", Bucket=bucket))
    return objects, size, uploads


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _size(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1024
        if n < 1024 or unit == "TB":
            break
    return f"{n:.1f} {unit}"


def _buckets(clients: ServerClients, regions: set[str], rates: Rates) -> Iterator[Item]:
    listing = clients.client("s3", region_name=clients.region)
    token: dict[str, str] = {}
    while True:
        page = listing.list_buckets(MaxBuckets=1000, **token)
        for bucket in page.get("Buckets", []):
            region = bucket.get("BucketRegion") or clients.region
            if region not in regions:
                continue
            try:
                objects, size, uploads = bucket_usage(
                    clients.client("s3", region_name=region), bucket["Name"]
                )
            except ClientError as exc:
                if is_gone(exc):
                    continue
                raise
            facts = {"objects": objects, "bytes": size, "multipart_uploads": uploads}
            # A bucket is billed for what it stores (an empty one for nothing, for now), so the
            # issue's rule — buckets are billed for storage — deletes every one by default.
            why = f"storage: {_count(objects, 'object')}, {_size(size)}"
            why += f", {_count(uploads, 'incomplete upload')}" if uploads else ""
            rate = rates.storage(region, "s3_storage", size / 2**30, _size(size))
            action = "empty, delete" if objects or uploads else "delete"
            yield Item(BUCKET, bucket["Name"], region, "-", True, why, rate, action, facts)
        if not page.get("ContinuationToken"):
            return
        token = {"ContinuationToken": page["ContinuationToken"]}


def trusts_sagemaker(document: Any) -> bool:
    """Whether a role's trust policy lets sagemaker.amazonaws.com assume it."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and "sagemaker.amazonaws.com" in services:
            return True
    return False


def _roles(iam: Any) -> Iterator[Item]:
    for role in _pages(iam, "list_roles", "Roles"):
        if role.get("Path", "/").startswith("/aws-service-role/"):
            continue
        if trusts_sagemaker(role.get("AssumeRolePolicyDocument", {})):
            why = "free (IAM): trusted by sagemaker.amazonaws.com"
            yield Item(ROLE, role["RoleName"], GLOBAL, "-", False, why, Rate(0.0, "free"), "delete")


def all_regions(clients: ServerClients) -> list[str]:
    """Every region a SageMaker client knows, the server's first."""
    known = clients.session.get_available_regions("sagemaker")
    return [clients.region, *sorted(r for r in known if r != clients.region)]


def inventory(clients: ServerClients, regions: list[str], rates: Rates | None = None) -> list[Item]:
    """Every resource in `regions` (plus the account's SageMaker roles), in deletion order."""
    rates = rates or Rates.load()
    items: list[Item] = []
    for region in regions:
        sm = clients.client("sagemaker", region_name=region)
        items += [*_jobs(sm, region, rates), *_endpoints(sm, region, rates), *_notebooks(sm, region, rates)]
        items += list(_free(sm, region))
    items += _buckets(clients, set(regions), rates)
    items += _roles(clients.client("iam"))
    return sorted(items, key=lambda i: ORDER.index(i.kind))


def plan(items: list[Item], *, everything: bool = False) -> list[Item]:
    """What clean-up acts on, in order: the billed resources, or with `everything` all of them."""
    return [i for i in items if i.billed or everything]


def hourly_total(items: list[Item]) -> tuple[float, int]:
    """The USD per hour the billed items cost, and how many billed items are not priced."""
    billed = [i for i in items if i.billed]
    return sum(i.rate.usd or 0.0 for i in billed), sum(1 for i in billed if i.rate.usd is None)
