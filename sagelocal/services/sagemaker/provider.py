"""The SageMaker provider: composes each resource's operations and the tags they all carry."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from sagelocal.services.base import Provider, RequestContext
from sagelocal.services.sagemaker.actions import sagemaker_actions
from sagelocal.services.sagemaker.code_repositories import CodeRepositories
from sagelocal.services.sagemaker.common import NOT_FOUND, find_named, validation
from sagelocal.services.sagemaker.deploy import Deployer
from sagelocal.services.sagemaker.endpoints import Endpoints
from sagelocal.services.sagemaker.hosting import Hosting
from sagelocal.services.sagemaker.lifecycle_configs import LifecycleConfigs
from sagelocal.services.sagemaker.models import ModelsAndConfigs
from sagelocal.services.sagemaker.notebook_run import NotebookRunner
from sagelocal.services.sagemaker.notebooks import NotebookInstances
from sagelocal.services.sagemaker.runs import TrainingRunner
from sagelocal.services.sagemaker.training import TrainingJobs
from sagelocal.services.sagemaker.transform import TransformJobs
from sagelocal.services.sagemaker.transform_run import TransformRunner
from sagelocal.store.db import Database
from sagelocal.store.models.hosting import Endpoint, EndpointConfig, SageMakerModel, TransformJob
from sagelocal.store.models.notebooks import CodeRepository, NotebookInstance, NotebookLifecycleConfig
from sagelocal.store.models.sagemaker import TrainingJob

_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:([a-z0-9-]*):([0-9]{12}):([a-z-]+)/(.+)$")
# Resources that carry tags, by the resource type in their ARN.
TAGGED: dict[str, type[Any]] = {
    "training-job": TrainingJob,
    "model": SageMakerModel,
    "endpoint-config": EndpointConfig,
    "endpoint": Endpoint,
    "transform-job": TransformJob,
    "notebook-instance": NotebookInstance,
    "notebook-instance-lifecycle-config": NotebookLifecycleConfig,
    "code-repository": CodeRepository,
}
# Operations each part implements (the rest of the model answers NotImplemented).
_TRAINING_OPS = ("create_training_job", "describe_training_job", "list_training_jobs", "stop_training_job")
_MODEL_OPS = (
    "create_model",
    "describe_model",
    "list_models",
    "delete_model",
    "create_endpoint_config",
    "describe_endpoint_config",
    "list_endpoint_configs",
    "delete_endpoint_config",
)
_ENDPOINT_OPS = (
    "create_endpoint",
    "describe_endpoint",
    "list_endpoints",
    "update_endpoint",
    "update_endpoint_weights_and_capacities",
    "delete_endpoint",
)

_TRANSFORM_OPS = (
    "create_transform_job",
    "describe_transform_job",
    "list_transform_jobs",
    "stop_transform_job",
)

_NOTEBOOK_OPS = (
    "create_notebook_instance",
    "describe_notebook_instance",
    "list_notebook_instances",
    "start_notebook_instance",
    "stop_notebook_instance",
    "update_notebook_instance",
    "delete_notebook_instance",
    "create_presigned_notebook_instance_url",
)
_LIFECYCLE_CONFIG_OPS = (
    "create_notebook_instance_lifecycle_config",
    "describe_notebook_instance_lifecycle_config",
    "list_notebook_instance_lifecycle_configs",
    "update_notebook_instance_lifecycle_config",
    "delete_notebook_instance_lifecycle_config",
)
_CODE_REPOSITORY_OPS = (
    "create_code_repository",
    "describe_code_repository",
    "list_code_repositories",
    "update_code_repository",
    "delete_code_repository",
)
# The provider's attribute holding each part, and the operations it serves from that part.
_PARTS: dict[str, tuple[str, ...]] = {
    "training": (*_TRAINING_OPS, "delete_training_job"),
    "models": _MODEL_OPS,
    "endpoints": _ENDPOINT_OPS,
    "transform": _TRANSFORM_OPS,
    "notebooks": _NOTEBOOK_OPS,
    "lifecycle_configs": _LIFECYCLE_CONFIG_OPS,
    "code_repositories": _CODE_REPOSITORY_OPS,
}
# Where the platform's server sends a browser on to an instance's JupyterLab.
NOTEBOOK_URL_PREFIX = "/_sagelocal/notebooks/"


class SageMakerProvider(Provider):
    service_name = "sagemaker"
    authz_actions = staticmethod(sagemaker_actions)  # type: ignore[assignment]
    delegated_operations = tuple(op for names in _PARTS.values() for op in names)

    def __init__(
        self,
        db: Database,
        home: Path,
        endpoint_url: str,
        hosting: Hosting | None = None,
        notebook_url_ttl: float = 300.0,
        notebook_lifecycle_timeout: float = 300.0,
        compute: dict[str, str] | None = None,
    ) -> None:
        self.db = db
        self.runner = TrainingRunner(db, home / "jobs", endpoint_url, compute)
        self.training = TrainingJobs(
            db, home / "jobs", self.runner.launch, multi_instance=compute is not None
        )
        self.training.stop_job = self.runner.stop
        self.hosting = hosting or Hosting()
        self.deployer = Deployer(db, home, endpoint_url, self.hosting)
        self.models = ModelsAndConfigs(db)
        self.endpoints = Endpoints(db, self.deployer)
        self.transform_runner = TransformRunner(db, home, self.deployer.setup)
        self.transform = TransformJobs(db, self.transform_runner.launch, self.transform_runner.stop)
        self.notebook_runner = NotebookRunner(db, home, endpoint_url, notebook_lifecycle_timeout)
        address = endpoint_url.split("://", 1)[-1]
        self.notebooks = NotebookInstances(
            db,
            self.notebook_runner,
            lambda row: f"{address}{NOTEBOOK_URL_PREFIX}{row.region}/{row.name}",
            notebook_url_ttl,
        )
        self.lifecycle_configs = LifecycleConfigs(db)
        self.code_repositories = CodeRepositories(db)
        for part, names in _PARTS.items():
            for op in names:
                setattr(self, op, getattr(getattr(self, part), op))

    def recover(self) -> object:
        return {
            "training_jobs": self.runner.recover(),
            "endpoints": self.deployer.recover(),
            "transform_jobs": self.transform_runner.recover(),
            "notebook_instances": self.notebook_runner.recover(),
        }

    def shutdown(self) -> None:
        self.hosting.close()
        self.deployer.close()
        self.notebook_runner.close()

    # Tags.
    def _tagged(self, session: Any, ctx: RequestContext, resource_arn: str) -> Any:
        m = _ARN.match(resource_arn)
        if m is None or m.group(3) not in TAGGED or m.group(2) != ctx.account_id:
            raise validation(NOT_FOUND)
        row = find_named(session, TAGGED[m.group(3)], replace(ctx, region=m.group(1)), m.group(4))
        if row is None:
            raise validation(NOT_FOUND)
        return row

    def add_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            row = self._tagged(session, ctx, params["ResourceArn"])
            tags = dict(row.tags) | {t["Key"]: t.get("Value", "") for t in params["Tags"]}
            if len(tags) > 50:
                raise validation("Could not add tags: a resource can have at most 50 tags.")
            row.tags = tags
        return {"Tags": params["Tags"]}

    def list_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            tags = self._tagged(session, ctx, params["ResourceArn"]).tags
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}

    def delete_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            row = self._tagged(session, ctx, params["ResourceArn"])
            row.tags = {k: v for k, v in row.tags.items() if k not in set(params["TagKeys"])}
        return {}
