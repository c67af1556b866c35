"""SageMaker endpoints: Create/Describe/List/Update/UpdateWeightsAndCapacities/Delete.

An endpoint row stores the plan it serves (`deployment`: a snapshot of its configuration and
models) and the plan an operation is deploying (`pending`). `deploy.Deployer` does the work on
its own thread; these calls only check, store the new state and hand over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sagelocal.billing import meter
from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.sagemaker.common import arn, find_named, list_resources, tag_dict, validation
from sagelocal.services.sagemaker.deploy import Deployer, key_of
from sagelocal.services.sagemaker.models import containers, get_config, get_model
from sagelocal.store.db import Database
from sagelocal.store.models.hosting import Endpoint, EndpointConfig

SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "Name": lambda r: r.name,
    "CreationTime": lambda r: r.creation_time,
    "Status": lambda r: r.status,
}
BUSY = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")


def endpoint_arn(ctx: RequestContext, name: str) -> str:
    return arn(ctx.region, ctx.account_id, "endpoint", name)


def make_plan(session: Session, ctx: RequestContext, config: EndpointConfig, seq: int) -> dict[str, Any]:
    """What an endpoint deploys from `config`: per variant its model's container and role."""
    variants = []
    for v in config.request["ProductionVariants"]:
        model = get_model(session, ctx, v["ModelName"])
        specs = containers(model)
        if len(specs) != 1:
            raise validation(
                f"Model {model.name} has {len(specs)} containers: sagelocal serves models with one container."
            )
        container = specs[0]
        if "Image" not in container:
            raise validation(f"Model {model.name}'s container has no Image.")
        variants.append(
            {
                "VariantName": v["VariantName"],
                "ModelName": model.name,
                "InstanceCount": int(v.get("InitialInstanceCount", 1)),
                "Weight": float(v.get("InitialVariantWeight", 1.0)),
                "InstanceType": v.get("InstanceType"),
                "Serverless": v.get("ServerlessConfig"),
                "Image": container["Image"],
                "ModelDataUrl": container.get("ModelDataUrl"),
                "Environment": container.get("Environment", {}),
                "RoleArn": model.request.get("ExecutionRoleArn"),
            }
        )
    return {"config": config.name, "seq": seq, "variants": variants, "time": utcnow().timestamp()}


def _variant_summary(spec: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    from datetime import UTC, datetime

    out: dict[str, Any] = {
        "VariantName": spec["VariantName"],
        "DeployedImages": [
            {"SpecifiedImage": spec["Image"], "ResolutionTime": datetime.fromtimestamp(plan["time"], UTC)}
        ],
        "CurrentWeight": spec["Weight"],
        "DesiredWeight": spec["Weight"],
    }
    if spec.get("Serverless"):
        out["CurrentServerlessConfig"] = out["DesiredServerlessConfig"] = spec["Serverless"]
    else:
        out["CurrentInstanceCount"] = out["DesiredInstanceCount"] = spec["InstanceCount"]
    return out


def describe_shape(endpoint: Endpoint) -> dict[str, Any]:
    from datetime import UTC, datetime

    out: dict[str, Any] = {
        "EndpointName": endpoint.name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.config_name,
    }
    if endpoint.deployment:
        out["ProductionVariants"] = [
            _variant_summary(v, endpoint.deployment) for v in endpoint.deployment["variants"]
        ]
    out["EndpointStatus"] = endpoint.status
    if endpoint.failure_reason:
        out["FailureReason"] = endpoint.failure_reason
    out["CreationTime"] = endpoint.creation_time
    out["LastModifiedTime"] = endpoint.last_modified_time
    if endpoint.status == "Updating" and endpoint.pending:
        plan = endpoint.pending
        started = datetime.fromtimestamp(plan["time"], UTC)
        variants = []
        for spec in plan["variants"]:
            summary = _variant_summary(spec, plan)
            summary = {k: v for k, v in summary.items() if not k.startswith("Current")}
            summary["VariantStatus"] = [{"Status": "Creating", "StartTime": started}]
            variants.append(summary)
        out["PendingDeploymentSummary"] = {
            "EndpointConfigName": plan["config"],
            "ProductionVariants": variants,
            "StartTime": started,
        }
    return out


class Endpoints:
    """The endpoint operations."""

    def __init__(self, db: Database, deployer: Deployer) -> None:
        self.db = db
        self.deployer = deployer

    def _get(self, session: Session, ctx: RequestContext, name: str) -> Endpoint:
        endpoint = find_named(session, Endpoint, ctx, name)
        if endpoint is None:
            raise validation(f'Could not find endpoint "{endpoint_arn(ctx, name)}".')
        return endpoint

    def create_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["EndpointName"]
        the_arn = endpoint_arn(ctx, name)
        exists = validation(f'Cannot create already existing endpoint "{the_arn}".')
        now = utcnow()
        try:
            with self.db.write() as session:
                config = get_config(session, ctx, params["EndpointConfigName"])
                if find_named(session, Endpoint, ctx, name) is not None:
                    raise exists
                endpoint = Endpoint(
                    account_id=ctx.account_id,
                    region=ctx.region,
                    name=name,
                    name_lower=name.lower(),
                    arn=the_arn,
                    status="Creating",
                    config_name=config.name,
                    creation_time=now,
                    last_modified_time=now,
                    pending=make_plan(session, ctx, config, 1),
                    tags=tag_dict(params),
                )
                session.add(endpoint)
                session.flush()
                meter.record(session, endpoint)
                endpoint_id = endpoint.id
        except IntegrityError:
            raise exists from None
        self.deployer.spawn(self.deployer.create, endpoint_id)
        return {"EndpointArn": the_arn}

    def describe_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            return describe_shape(self._get(session, ctx, params["EndpointName"]))

    def list_endpoints(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            rows, token = list_resources(session, Endpoint, ctx, params, SORT_KEYS)
            summaries = [
                {
                    "EndpointName": e.name,
                    "EndpointArn": e.arn,
                    "CreationTime": e.creation_time,
                    "LastModifiedTime": e.last_modified_time,
                    "EndpointStatus": e.status,
                }
                for e in rows
            ]
        out: dict[str, Any] = {"Endpoints": summaries}
        if token:
            out["NextToken"] = token
        return out

    def _check_idle(self, endpoint: Endpoint) -> None:
        if endpoint.status in BUSY:
            raise validation(f'Cannot update in-progress endpoint "{endpoint.arn}".')

    def update_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("RetainAllVariantProperties") or params.get("DeploymentConfig"):
            pass  # accepted; every update here is a full blue/green swap
        with self.db.write() as session:
            endpoint = self._get(session, ctx, params["EndpointName"])
            self._check_idle(endpoint)
            if endpoint.status == "Failed":
                raise validation(
                    f'Cannot update failed endpoint "{endpoint.arn}". DeleteEndpoint is the only '
                    "operation that can be performed on a failed endpoint."
                )
            config = get_config(session, ctx, params["EndpointConfigName"])
            seq = int((endpoint.deployment or {}).get("seq", 0)) + 1
            endpoint.pending = make_plan(session, ctx, config, seq)
            endpoint.status = "Updating"
            endpoint.last_modified_time = utcnow()
            endpoint_id, the_arn = endpoint.id, endpoint.arn
        self.deployer.spawn(self.deployer.update, endpoint_id)
        return {"EndpointArn": the_arn}

    def update_endpoint_weights_and_capacities(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.db.write() as session:
            endpoint = self._get(session, ctx, params["EndpointName"])
            self._check_idle(endpoint)
            if endpoint.status != "InService" or not endpoint.deployment:
                raise validation(f'Cannot update endpoint "{endpoint.arn}" in status {endpoint.status}.')
            plan = {**endpoint.deployment, "variants": [dict(v) for v in endpoint.deployment["variants"]]}
            by_name = {v["VariantName"]: v for v in plan["variants"]}
            for desired in params["DesiredWeightsAndCapacities"]:
                spec = by_name.get(desired["VariantName"])
                if spec is None:
                    raise validation(
                        f"The variant name(s) [{desired['VariantName']}] is/are not present in the "
                        f'endpoint "{endpoint.arn}".'
                    )
                if "DesiredWeight" in desired:
                    spec["Weight"] = float(desired["DesiredWeight"])
                if "DesiredInstanceCount" in desired:
                    spec["InstanceCount"] = int(desired["DesiredInstanceCount"])
            endpoint.pending = plan
            endpoint.status = "Updating"
            endpoint.last_modified_time = utcnow()
            endpoint_id, the_arn = endpoint.id, endpoint.arn
        self.deployer.spawn(self.deployer.rescale, endpoint_id)
        return {"EndpointArn": the_arn}

    def delete_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            endpoint = self._get(session, ctx, params["EndpointName"])
            self._check_idle(endpoint)
            endpoint.status = "Deleting"
            endpoint.last_modified_time = utcnow()
            endpoint_id, key = endpoint.id, key_of(endpoint)
        self.deployer.spawn(self.deployer.delete, endpoint_id, key)
        return {}
