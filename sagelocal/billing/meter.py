"""The usage meter: what each SageMaker resource would be billed for, kept in a ledger.

Services call `record(session, resource)` once per persisted state transition, inside the
transaction that persists it (so the ledger and the resource never disagree after a crash), and
`record(session, resource, gone=True)` in the transaction that deletes it. `record` works out
which usage the resource incurs in its new state and reconciles the ledger: rows still incurred
stay open, rows no longer incurred are closed now, new ones are opened now.

    notebook instance  notebook_instance x 1 while InService; ml_storage x VolumeSizeInGB from
                       creation until deletion (a stopped instance still pays for its volume)
    endpoint           hosting x InstanceCount per instance variant from creation until deletion
                       (serving plan; an update that changes counts closes and reopens; a Failed
                       endpoint incurs nothing); serverless variants are not metered
    training job       training x InstanceCount while training; on completion a closed row of
                       BillableTimeInSeconds (as Describe reports it) from TrainingStartTime
    transform job      transform x InstanceCount from TransformStartTime to TransformEndTime
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.store.models.billing import BillingUsage
from sagelocal.store.models.hosting import Endpoint, TransformJob
from sagelocal.store.models.notebooks import NotebookInstance
from sagelocal.store.models.sagemaker import TrainingJob

RUNNING = ("InProgress", "Stopping")
DEFAULT_NOTEBOOK_VOLUME_GB = 5


@dataclass(frozen=True)
class Spec:
    """One usage a resource incurs: open (`ended_at` None) or already finished."""

    family: str
    instance_type: str | None
    quantity: float
    variant: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def matches(self, row: BillingUsage) -> bool:
        return (row.family, row.instance_type, row.variant) == (self.family, self.instance_type, self.variant)


@dataclass(frozen=True)
class OpenUsage:
    """A ledger row still accruing cost."""

    resource_arn: str
    resource_name: str
    resource_type: str
    variant: str | None
    family: str
    instance_type: str | None
    quantity: float
    region: str
    account_id: str
    started_at: datetime


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def _notebook(row: NotebookInstance) -> list[Spec]:
    request = row.request or {}
    gb = float(request.get("VolumeSizeInGB", DEFAULT_NOTEBOOK_VOLUME_GB))
    specs = [Spec("ml_storage", None, gb, "volume")]
    if row.status == "InService":
        specs.append(Spec("notebook_instance", request.get("InstanceType"), 1.0))
    return specs


def _endpoint(row: Endpoint) -> list[Spec]:
    plan = row.deployment or row.pending
    if row.status == "Failed" or not plan:
        return []
    return [
        Spec("hosting", v.get("InstanceType"), float(v.get("InstanceCount", 1)), v["VariantName"])
        for v in plan.get("variants", [])
        if not v.get("Serverless")
    ]


def _job(
    family: str, status: str, resources: dict[str, Any], start: datetime | None, end: datetime | None
) -> list[Spec]:
    count = float(resources.get("InstanceCount", 1))
    instance_type = resources.get("InstanceType")
    if start is None:
        return []
    if status in RUNNING:
        return [Spec(family, instance_type, count, started_at=start)]
    if end is None:
        return []
    if family == "training":  # BillableTimeInSeconds, as DescribeTrainingJob reports it
        end = start + timedelta(seconds=max(1, round((end - start).total_seconds())))
    return [Spec(family, instance_type, count, started_at=start, ended_at=end)]


def _training(job: TrainingJob) -> list[Spec]:
    resources = (job.request or {}).get("ResourceConfig", {})
    return _job("training", job.status, resources, job.training_start_time, job.training_end_time)


def _transform(job: TransformJob) -> list[Spec]:
    resources = (job.request or {}).get("TransformResources", {})
    return _job("transform", job.status, resources, job.transform_start_time, job.transform_end_time)


BUILDERS: dict[type, tuple[str, Any]] = {
    NotebookInstance: ("notebook-instance", _notebook),
    Endpoint: ("endpoint", _endpoint),
    TrainingJob: ("training-job", _training),
    TransformJob: ("transform-job", _transform),
}


def record(session: Session, resource: Any, *, gone: bool = False, at: datetime | None = None) -> None:
    """Bring the ledger in line with `resource`'s persisted state (`gone`: it is being deleted).
    `at` is when the transition happened (default: now)."""
    resource_type, build = BUILDERS[type(resource)]
    now = at or _now()
    wanted: list[Spec] = [] if gone else build(resource)
    open_rows = list(
        session.scalars(
            select(BillingUsage).where(
                BillingUsage.resource_arn == resource.arn, BillingUsage.ended_at.is_(None)
            )
        )
    )
    for spec in wanted:
        row = next((r for r in open_rows if spec.matches(r)), None)
        if spec.ended_at is not None:  # finished usage: close its open row, or write it closed
            if row is not None:
                open_rows.remove(row)
                row.started_at = spec.started_at or row.started_at
                row.ended_at, row.quantity = spec.ended_at, spec.quantity
            elif not _already_recorded(session, resource.arn, spec):
                session.add(_row(resource, resource_type, spec, now))
        elif row is not None and row.quantity == spec.quantity:
            open_rows.remove(row)  # still incurred: keep it open
        else:
            session.add(_row(resource, resource_type, spec, now))
    for row in open_rows:  # no longer incurred
        row.ended_at = max(now, row.started_at)
    session.flush()


def _already_recorded(session: Session, arn: str, spec: Spec) -> bool:
    return (
        session.scalar(
            select(BillingUsage.id).where(
                BillingUsage.resource_arn == arn,
                BillingUsage.family == spec.family,
                BillingUsage.started_at == spec.started_at,
            )
        )
        is not None
    )


def _row(resource: Any, resource_type: str, spec: Spec, now: datetime) -> BillingUsage:
    return BillingUsage(
        account_id=resource.account_id,
        region=resource.region,
        resource_arn=resource.arn,
        resource_name=resource.name,
        resource_type=resource_type,
        variant=spec.variant,
        family=spec.family,
        instance_type=spec.instance_type,
        quantity=spec.quantity,
        started_at=spec.started_at or now,
        ended_at=spec.ended_at,
    )


def open_usage(session: Session, account_id: str | None = None) -> list[OpenUsage]:
    """Every ledger row still accruing cost (optionally of one account), oldest first."""
    query = select(BillingUsage).where(BillingUsage.ended_at.is_(None)).order_by(BillingUsage.started_at)
    if account_id is not None:
        query = query.where(BillingUsage.account_id == account_id)
    return [
        OpenUsage(
            resource_arn=r.resource_arn,
            resource_name=r.resource_name,
            resource_type=r.resource_type,
            variant=r.variant,
            family=r.family,
            instance_type=r.instance_type,
            quantity=r.quantity,
            region=r.region,
            account_id=r.account_id,
            started_at=r.started_at,
        )
        for r in session.scalars(query)
    ]
