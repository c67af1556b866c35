"""SageMaker batch transform jobs: Create/Describe/List/Stop and the state they are stored in.

The job snapshots its model's container (`_model` in the stored request, never echoed) so a
model deleted later does not affect it. `transform_run.TransformRunner` does the work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from sagelocal.services.base import RequestContext, ServiceError, utcnow
from sagelocal.services.sagemaker.common import arn, find_named, list_resources, tag_dict, validation
from sagelocal.services.sagemaker.models import containers, get_model
from sagelocal.store.db import Database
from sagelocal.store.models.hosting import TransformJob

ECHOED = (
    "ModelName",
    "MaxConcurrentTransforms",
    "ModelClientConfig",
    "MaxPayloadInMB",
    "BatchStrategy",
    "Environment",
    "TransformInput",
    "TransformOutput",
    "DataCaptureConfig",
    "TransformResources",
    "DataProcessing",
    "ExperimentConfig",
)
SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "Name": lambda r: r.name,
    "CreationTime": lambda r: r.creation_time,
    "Status": lambda r: r.status,
}
TERMINAL = ("Completed", "Failed", "Stopped")


def _check(params: dict[str, Any]) -> None:
    payload = int(params.get("MaxPayloadInMB", 6))
    concurrent = int(params.get("MaxConcurrentTransforms", 1))
    if payload == 0:
        raise validation("MaxPayloadInMB=0 (chunked transfer) is not supported by built-in algorithms.")
    if payload * concurrent > 100:
        raise validation(
            "The product of MaxConcurrentTransforms and MaxPayloadInMB must not exceed 100 MB "
            f"({concurrent} x {payload})."
        )
    split = params["TransformInput"].get("SplitType", "None")
    if split not in ("None", "Line"):
        raise validation(f"SplitType {split} is not supported by sagelocal: use Line or None.")
    processing = params.get("DataProcessing") or {}
    if any(processing.get(k, "$") != "$" for k in ("InputFilter", "OutputFilter")) or (
        processing.get("JoinSource", "None") != "None"
    ):
        raise validation(
            "DataProcessing (input/output filters and JoinSource) is not supported by sagelocal."
        )


def describe_shape(job: TransformJob) -> dict[str, Any]:
    out: dict[str, Any] = {
        "TransformJobName": job.name,
        "TransformJobArn": job.arn,
        "TransformJobStatus": job.status,
    }
    if job.failure_reason:
        out["FailureReason"] = job.failure_reason
    out |= {k: job.request[k] for k in ECHOED if k in job.request}
    out["CreationTime"] = job.creation_time
    if job.transform_start_time:
        out["TransformStartTime"] = job.transform_start_time
    if job.transform_end_time:
        out["TransformEndTime"] = job.transform_end_time
    return out


class TransformJobs:
    """The transform-job operations; `launch(job_id)` starts a created job, `stop(job_id)`
    asks a running one to stop (False if nothing is running)."""

    def __init__(self, db: Database, launch: Callable[[int], None], stop: Callable[[int], bool]) -> None:
        self.db = db
        self.launch = launch
        self.stop = stop

    def _find(self, session: Any, ctx: RequestContext, name: str) -> TransformJob:
        job = find_named(session, TransformJob, ctx, name)
        if job is None:
            raise validation(f"Could not find requested job with name {name}")
        return job

    def create_transform_job(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _check(params)
        name: str = params["TransformJobName"]
        job_arn = arn(ctx.region, ctx.account_id, "transform-job", name)
        in_use = ServiceError(
            "ResourceInUse",
            "Transform job names must be unique within an AWS account and region, and a transform job "
            f"with this name already exists ({job_arn})",
        )
        now = utcnow()
        try:
            with self.db.write() as session:
                model = get_model(session, ctx, params["ModelName"])
                specs = containers(model)
                if len(specs) != 1:
                    raise validation(
                        f"Model {model.name} must have exactly one container for batch transform."
                    )
                if find_named(session, TransformJob, ctx, name) is not None:
                    raise in_use
                request = {k: params[k] for k in ECHOED if k in params}
                request["ModelName"] = model.name
                request["_model"] = specs[0] | {"RoleArn": model.request.get("ExecutionRoleArn")}
                job = TransformJob(
                    account_id=ctx.account_id,
                    region=ctx.region,
                    name=name,
                    name_lower=name.lower(),
                    arn=job_arn,
                    status="InProgress",
                    creation_time=now,
                    last_modified_time=now,
                    request=request,
                    tags=tag_dict(params),
                )
                session.add(job)
                session.flush()
                job_id = job.id
        except IntegrityError:
            raise in_use from None
        self.launch(job_id)
        return {"TransformJobArn": job_arn}

    def describe_transform_job(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            return describe_shape(self._find(session, ctx, params["TransformJobName"]))

    def list_transform_jobs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            rows, token = list_resources(session, TransformJob, ctx, params, SORT_KEYS)
            summaries = []
            for job in rows:
                item: dict[str, Any] = {
                    "TransformJobName": job.name,
                    "TransformJobArn": job.arn,
                    "CreationTime": job.creation_time,
                    "LastModifiedTime": job.last_modified_time,
                    "TransformJobStatus": job.status,
                }
                if job.transform_end_time:
                    item["TransformEndTime"] = job.transform_end_time
                if job.failure_reason:
                    item["FailureReason"] = job.failure_reason
                summaries.append(item)
        out: dict[str, Any] = {"TransformJobSummaries": summaries}
        if token:
            out["NextToken"] = token
        return out

    def stop_transform_job(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            job = self._find(session, ctx, params["TransformJobName"])
            if job.status in TERMINAL or job.status == "Stopping":
                return {}  # AWS accepts a stop of a finished job and does nothing
            job.status = "Stopping"
            job.last_modified_time = utcnow()
            job_id = job.id
        if not self.stop(job_id):
            with self.db.write() as session:
                job = session.get(TransformJob, job_id)
                if job is not None and job.status == "Stopping":
                    job.status = "Stopped"
                    job.transform_end_time = job.last_modified_time = utcnow()
        return {}
