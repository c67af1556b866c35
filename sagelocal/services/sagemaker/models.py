"""SageMaker models and endpoint configurations: Create/Describe/List/Delete.

Neither has a status: a model names its containers and execution role, a configuration its
production variants. Endpoints snapshot both when they deploy, so deleting either later does
not affect a running endpoint (as on AWS).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.sagemaker.common import arn, find_named, list_resources, tag_dict, validation
from sagelocal.services.sagemaker.roles import require_role
from sagelocal.store.db import Database
from sagelocal.store.models.hosting import EndpointConfig, SageMakerModel

MODEL_ECHOED = ("PrimaryContainer", "Containers", "InferenceExecutionConfig", "ExecutionRoleArn", "VpcConfig")
CONFIG_ECHOED = (
    "ProductionVariants",
    "DataCaptureConfig",
    "KmsKeyId",
    "AsyncInferenceConfig",
    "ExplainerConfig",
    "ShadowProductionVariants",
    "ExecutionRoleArn",
    "VpcConfig",
    "EnableNetworkIsolation",
)
SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "Name": lambda r: r.name,
    "CreationTime": lambda r: r.creation_time,
}


def model_missing(ctx: RequestContext, name: str) -> Exception:
    return validation(f'Could not find model "{arn(ctx.region, ctx.account_id, "model", name)}".')


def config_missing(ctx: RequestContext, name: str) -> Exception:
    return validation(
        f'Could not find endpoint configuration "{arn(ctx.region, ctx.account_id, "endpoint-config", name)}".'
    )


def containers(model: SageMakerModel) -> list[dict[str, Any]]:
    """The model's containers, the primary one first (as SageMaker runs them)."""
    if "PrimaryContainer" in model.request:
        return [model.request["PrimaryContainer"]]
    return list(model.request.get("Containers", []))


def get_model(session: Session, ctx: RequestContext, name: str) -> SageMakerModel:
    model = find_named(session, SageMakerModel, ctx, name)
    if model is None:
        raise model_missing(ctx, name)
    return model


def get_config(session: Session, ctx: RequestContext, name: str) -> EndpointConfig:
    config = find_named(session, EndpointConfig, ctx, name)
    if config is None:
        raise config_missing(ctx, name)
    return config


def _container(spec: dict[str, Any]) -> dict[str, Any]:
    """A container as Describe returns it: AWS fills in Mode and an empty Environment."""
    return {"Environment": {}, "Mode": "SingleModel"} | spec


def _variant(spec: dict[str, Any]) -> dict[str, Any]:
    out = dict(spec)
    if "ServerlessConfig" not in out:
        out.setdefault("InitialVariantWeight", 1.0)
    return out


class ModelsAndConfigs:
    """The model and endpoint-configuration operations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # Models.
    def create_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["ModelName"]
        if "PrimaryContainer" not in params and not params.get("Containers"):
            raise validation("Either PrimaryContainer or Containers must be specified.")
        if "PrimaryContainer" in params and params.get("Containers"):
            raise validation("Only one of PrimaryContainer or Containers may be specified.")
        if "ExecutionRoleArn" in params:
            require_role(self.db, ctx, params["ExecutionRoleArn"])
        model_arn = arn(ctx.region, ctx.account_id, "model", name)
        request = {k: params[k] for k in MODEL_ECHOED if k in params}
        if "PrimaryContainer" in request:
            request["PrimaryContainer"] = _container(request["PrimaryContainer"])
        if "Containers" in request:
            request["Containers"] = [_container(c) for c in request["Containers"]]
        request["EnableNetworkIsolation"] = bool(params.get("EnableNetworkIsolation", False))
        row = SageMakerModel(
            account_id=ctx.account_id,
            region=ctx.region,
            name=name,
            name_lower=name.lower(),
            arn=model_arn,
            creation_time=utcnow(),
            request=request,
            tags=tag_dict(params),
        )
        exists = validation(f'Cannot create already existing model "{model_arn}".')
        try:
            with self.db.write() as session:
                if find_named(session, SageMakerModel, ctx, name) is not None:
                    raise exists
                session.add(row)
        except IntegrityError:
            raise exists from None
        return {"ModelArn": model_arn}

    def describe_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            model = get_model(session, ctx, params["ModelName"])
            return {
                "ModelName": model.name,
                **model.request,
                "CreationTime": model.creation_time,
                "ModelArn": model.arn,
            }

    def list_models(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            rows, token = list_resources(session, SageMakerModel, ctx, params, SORT_KEYS)
            out: dict[str, Any] = {
                "Models": [
                    {"ModelName": m.name, "ModelArn": m.arn, "CreationTime": m.creation_time} for m in rows
                ]
            }
        if token:
            out["NextToken"] = token
        return out

    def delete_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            session.delete(get_model(session, ctx, params["ModelName"]))
        return {}

    # Endpoint configurations.
    def create_endpoint_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["EndpointConfigName"]
        variants: list[dict[str, Any]] = params["ProductionVariants"]
        names = [v["VariantName"] for v in variants]
        if len(set(names)) != len(names):
            raise validation("Variant names must be unique within an endpoint configuration.")
        for v in variants:
            if "ModelName" not in v:
                raise validation(f"Variant {v['VariantName']} does not specify a ModelName.")
            if "ServerlessConfig" not in v and ("InitialInstanceCount" not in v or "InstanceType" not in v):
                raise validation(
                    f"Variant {v['VariantName']} must specify InitialInstanceCount and InstanceType "
                    "(or a ServerlessConfig)."
                )
        config_arn = arn(ctx.region, ctx.account_id, "endpoint-config", name)
        exists = validation(f'Cannot create already existing endpoint configuration "{config_arn}".')
        request = {k: params[k] for k in CONFIG_ECHOED if k in params}
        request["ProductionVariants"] = [_variant(v) for v in variants]
        try:
            with self.db.write() as session:
                for v in variants:
                    get_model(session, ctx, v["ModelName"])
                if find_named(session, EndpointConfig, ctx, name) is not None:
                    raise exists
                session.add(
                    EndpointConfig(
                        account_id=ctx.account_id,
                        region=ctx.region,
                        name=name,
                        name_lower=name.lower(),
                        arn=config_arn,
                        creation_time=utcnow(),
                        request=request,
                        tags=tag_dict(params),
                    )
                )
        except IntegrityError:
            raise exists from None
        return {"EndpointConfigArn": config_arn}

    def describe_endpoint_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            config = get_config(session, ctx, params["EndpointConfigName"])
            return {
                "EndpointConfigName": config.name,
                "EndpointConfigArn": config.arn,
                **config.request,
                "CreationTime": config.creation_time,
            }

    def list_endpoint_configs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            rows, token = list_resources(session, EndpointConfig, ctx, params, SORT_KEYS)
            summaries = [
                {"EndpointConfigName": c.name, "EndpointConfigArn": c.arn, "CreationTime": c.creation_time}
                for c in rows
            ]
        out: dict[str, Any] = {"EndpointConfigs": summaries}
        if token:
            out["NextToken"] = token
        return out

    def delete_endpoint_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            session.delete(get_config(session, ctx, params["EndpointConfigName"]))
        return {}
