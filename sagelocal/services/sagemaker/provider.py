"""The SageMaker provider: composes each resource's operations (training jobs so far) and tags."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from sagelocal.services.base import Provider, RequestContext
from sagelocal.services.sagemaker.common import NOT_FOUND, validation
from sagelocal.services.sagemaker.runs import TrainingRunner
from sagelocal.services.sagemaker.training import TrainingJobs
from sagelocal.store.db import Database
from sagelocal.store.models.sagemaker import TrainingJob

_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:([a-z0-9-]*):([0-9]{12}):([a-z-]+)/(.+)$")


class SageMakerProvider(Provider):
    service_name = "sagemaker"

    def __init__(self, db: Database, home: Path, endpoint_url: str) -> None:
        self.db = db
        self.runner = TrainingRunner(db, home / "jobs", endpoint_url)
        self.training = TrainingJobs(db, home / "jobs", self.runner.launch)
        self.training.stop_job = self.runner.stop
        self.create_training_job = self.training.create_training_job
        self.describe_training_job = self.training.describe_training_job
        self.list_training_jobs = self.training.list_training_jobs
        self.stop_training_job = self.training.stop_training_job
        self.delete_training_job = self.training.delete_training_job

    def recover(self) -> object:
        return self.runner.recover()

    # Tags: on training jobs so far.
    def _tagged(self, session: Any, ctx: RequestContext, resource_arn: str) -> TrainingJob:
        m = _ARN.match(resource_arn)
        if m is None or m.group(3) != "training-job" or m.group(2) != ctx.account_id:
            raise validation(NOT_FOUND)
        return self.training.find(session, replace(ctx, region=m.group(1)), m.group(4))

    def add_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            job = self._tagged(session, ctx, params["ResourceArn"])
            tags = dict(job.tags) | {t["Key"]: t.get("Value", "") for t in params["Tags"]}
            if len(tags) > 50:
                raise validation("Could not add tags: a resource can have at most 50 tags.")
            job.tags = tags
        return {"Tags": params["Tags"]}

    def list_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            tags = self._tagged(session, ctx, params["ResourceArn"]).tags
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}

    def delete_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            job = self._tagged(session, ctx, params["ResourceArn"])
            job.tags = {k: v for k, v in job.tags.items() if k not in set(params["TagKeys"])}
        return {}
