"""SageMaker training jobs: Create/Describe/List/Stop/Delete and the state they are stored in.

A job row holds the Describe shape (request echo, status, transitions, results); `runs.py`
moves it through its states as the supervised process reports them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, ServiceError, utcnow
from sagelocal.services.iam.identity import RoleRecord
from sagelocal.services.sagemaker.common import (
    NOT_FOUND,
    arn,
    find_named,
    list_resources,
    not_null,
    validation,
)
from sagelocal.services.sagemaker.roles import require_role
from sagelocal.store.db import Database
from sagelocal.store.models.sagemaker import TrainingJob

FAILURE_REASON_MAX = 1024
TERMINAL = ("Completed", "Failed", "Stopped")
STATUS_MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job runtime exceeded MaxRuntimeInSeconds provided",
}
# CreateTrainingJob members Describe echoes back.
ECHOED = (
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "HyperParameters",
    "VpcConfig",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "DebugHookConfig",
    "DebugRuleConfigurations",
    "TensorBoardOutputConfig",
    "ExperimentConfig",
    "ProfilerConfig",
    "Environment",
    "RetryStrategy",
)
SORT_KEYS: dict[str, Callable[[TrainingJob], Any]] = {
    "Name": lambda j: j.name,
    "CreationTime": lambda j: j.creation_time,
    "Status": lambda j: j.status,
}

Launcher = Callable[[TrainingJob, RoleRecord], None]


def _times(entry: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A stored entry with its epoch-second members as aware datetimes."""
    return {k: datetime.fromtimestamp(v, UTC) if k in keys else v for k, v in entry.items()}


def add_transition(job: TrainingJob, status: str, when: datetime, message: str | None = None) -> None:
    """End the open transition and open `status` (terminal ones end when they start)."""
    stamp = when.timestamp()
    transitions = [dict(t) for t in job.transitions]
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1]["EndTime"] = stamp
    entry: dict[str, Any] = {"Status": status, "StartTime": stamp}
    entry["StatusMessage"] = message or STATUS_MESSAGES.get(status, status)
    if status in (*TERMINAL, "MaxRuntimeExceeded"):
        entry["EndTime"] = stamp
    transitions.append(entry)
    job.transitions = transitions
    job.secondary_status = status
    job.last_modified_time = when


def model_uri(request: dict[str, Any], name: str) -> str:
    """Where the artifact goes: <S3OutputPath>/<job>/output/model.tar.gz."""
    return f"{request['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{name}/output/model.tar.gz"


def describe_shape(job: TrainingJob) -> dict[str, Any]:
    """The DescribeTrainingJob output of a stored job (absent optionals omitted)."""
    out: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "ModelArtifacts": {"S3ModelArtifacts": job.model_artifacts or model_uri(job.request, job.name)},
        "TrainingJobStatus": job.status,
        "SecondaryStatus": job.secondary_status,
    }
    out |= {k: job.request[k] for k in ECHOED if k in job.request}
    out["CreationTime"] = job.creation_time
    out["LastModifiedTime"] = job.last_modified_time
    out["SecondaryStatusTransitions"] = [_times(t, "StartTime", "EndTime") for t in job.transitions]
    if job.failure_reason:
        out["FailureReason"] = job.failure_reason[:FAILURE_REASON_MAX]
    if job.training_start_time:
        out["TrainingStartTime"] = job.training_start_time
    if job.training_end_time:
        out["TrainingEndTime"] = job.training_end_time
        if job.training_start_time:
            seconds = max(1, round((job.training_end_time - job.training_start_time).total_seconds()))
            out["TrainingTimeInSeconds"] = seconds
            out["BillableTimeInSeconds"] = seconds
    if job.final_metrics:
        out["FinalMetricDataList"] = [_times(m, "Timestamp") for m in job.final_metrics]
    return out


def _summary(job: TrainingJob) -> dict[str, Any]:
    out: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "CreationTime": job.creation_time,
        "TrainingJobStatus": job.status,
        "LastModifiedTime": job.last_modified_time,
        "SecondaryStatus": job.secondary_status,
    }
    if job.training_end_time:
        out["TrainingEndTime"] = job.training_end_time
    return out


def _check_request(params: dict[str, Any], multi_instance: bool) -> None:
    if "ServerlessJobConfig" in params:
        raise validation("Serverless training jobs are not supported by sagelocal.")
    for member, path in (
        ("AlgorithmSpecification", "algorithmSpecification"),
        ("ResourceConfig", "resourceConfig"),
        ("StoppingCondition", "stoppingCondition"),
    ):
        if member not in params:
            raise not_null(path)
    spec = params["AlgorithmSpecification"]
    if not spec.get("TrainingImage"):
        if spec.get("AlgorithmName"):
            raise validation(
                "Algorithm resources (AlgorithmName) are not supported by sagelocal; use TrainingImage."
            )
        raise not_null("algorithmSpecification.trainingImage")
    modes = [spec.get("TrainingInputMode")] + [c.get("InputMode") for c in params.get("InputDataConfig", [])]
    if "Pipe" in modes:
        raise validation("Pipe input mode is not supported by sagelocal; use File (or FastFile) mode.")
    names = [c["ChannelName"] for c in params.get("InputDataConfig", [])]
    if len(names) != len(set(names)):
        raise validation("Channel names must be unique within InputDataConfig.")
    if params["ResourceConfig"].get("InstanceCount", 1) != 1 and not multi_instance:
        raise validation(
            "sagelocal runs training jobs on one instance unless its server runs with --compute dask: "
            "InstanceCount must be 1."
        )


class TrainingJobs:
    """The training-job operations. `launch` queues a freshly created job for execution."""

    def __init__(self, db: Database, jobs_dir: Path, launch: Launcher, multi_instance: bool = False) -> None:
        self.db = db
        self.jobs_dir = jobs_dir
        self.launch = launch
        self.multi_instance = multi_instance  # the Dask backend trains on InstanceCount hosts
        self.stop_job: Callable[[str], bool] = lambda _key: False

    @staticmethod
    def get(session: Session, ctx: RequestContext, name: str) -> TrainingJob | None:
        """The caller's account and region's job of this name (any case), or None."""
        return find_named(session, TrainingJob, ctx, name)

    def find(self, session: Session, ctx: RequestContext, name: str) -> TrainingJob:
        """The job of this name, or AWS's not-found error."""
        job = self.get(session, ctx, name)
        if job is None:
            raise validation(NOT_FOUND)
        return job

    def create_training_job(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _check_request(params, self.multi_instance)
        name: str = params["TrainingJobName"]
        job_arn = arn(ctx.region, ctx.account_id, "training-job", name)
        role = require_role(self.db, ctx, params["RoleArn"])
        now = utcnow()
        job = TrainingJob(
            account_id=ctx.account_id,
            region=ctx.region,
            name=name,
            name_lower=name.lower(),
            arn=job_arn,
            status="InProgress",
            secondary_status="Starting",
            creation_time=now,
            last_modified_time=now,
            request={k: params[k] for k in ECHOED if k in params},
            transitions=[],
            tags={t["Key"]: t.get("Value", "") for t in params.get("Tags", [])},
        )
        add_transition(job, "Starting", now)
        in_use = ServiceError(
            "ResourceInUse",
            "Training job names must be unique within an AWS account and region, and a "
            f"training job with this name already exists ({job_arn})",
        )
        try:
            with self.db.write() as session:
                if self.get(session, ctx, name) is not None:
                    raise in_use
                session.add(job)
        except IntegrityError:  # a concurrent create of the same name won
            raise in_use from None
        shutil.rmtree(self.jobs_dir / name, ignore_errors=True)  # a deleted job's old workspace
        self.launch(job, role)
        return {"TrainingJobArn": job_arn}

    def describe_training_job(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            return describe_shape(self.find(session, ctx, params["TrainingJobName"]))

    def list_training_jobs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            jobs, token = list_resources(
                session, TrainingJob, ctx, params, SORT_KEYS, default_order="Ascending"
            )
            out: dict[str, Any] = {"TrainingJobSummaries": [_summary(j) for j in jobs]}
        if token:
            out["NextToken"] = token
        return out

    def stop_training_job(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            job = self.find(session, ctx, params["TrainingJobName"])
            if job.status != "InProgress":
                raise validation(
                    f"The request was rejected because the training job is in status {job.status}."
                )
            job.status = "Stopping"
            add_transition(job, "Stopping", utcnow())
            key = job.arn
        if not self.stop_job(key):  # no process to stop (it never started): it is simply Stopped
            with self.db.write() as session:
                job = self.find(session, ctx, params["TrainingJobName"])
                if job.status == "Stopping":
                    job.status = "Stopped"
                    add_transition(job, "Stopped", utcnow())
        return {}

    def delete_training_job(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            job = self.find(session, ctx, params["TrainingJobName"])
            if job.status not in TERMINAL:
                raise ServiceError(
                    "ResourceInUse",
                    f"Training job {job.name} is in status {job.status}; only Completed, Failed or "
                    "Stopped training jobs can be deleted.",
                )
            session.delete(job)
            name = job.name
        shutil.rmtree(self.jobs_dir / name, ignore_errors=True)
        return {}
