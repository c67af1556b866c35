"""The IAM actions SageMaker operations need: `sagemaker:<Operation>` on the resource the request
names (its ARN, with the name lower-cased as AWS does), `*` for List/Search; creating a job,
model or notebook also needs `iam:PassRole` on its role (passed to sagemaker.amazonaws.com)."""

from __future__ import annotations

from typing import Any

from sagelocal.services.authz_requests import ActionRequest, tag_context
from sagelocal.services.base import RequestContext
from sagelocal.services.sagemaker.common import arn

# The member naming the resource an operation acts on, and the resource type in its ARN.
_NAMED = (
    ("TrainingJobName", "training-job"),
    ("TransformJobName", "transform-job"),
    ("EndpointName", "endpoint"),
    ("EndpointConfigName", "endpoint-config"),
    ("ModelName", "model"),
    ("NotebookInstanceLifecycleConfigName", "notebook-instance-lifecycle-config"),
    ("NotebookInstanceName", "notebook-instance"),
    ("CodeRepositoryName", "code-repository"),
)
_ROLE_MEMBERS = ("RoleArn", "ExecutionRoleArn")


def resource_of(ctx: RequestContext, operation: str, params: dict[str, Any]) -> str:
    if operation in ("AddTags", "DeleteTags", "ListTags"):
        return str(params.get("ResourceArn", "*"))
    if operation.startswith(("List", "Search")):
        return "*"
    for member, kind in _NAMED:
        name = params.get(member)
        if isinstance(name, str):
            return arn(ctx.region, ctx.account_id, kind, name)
    return "*"


def sagemaker_actions(ctx: RequestContext, operation: str, params: dict[str, Any]) -> list[ActionRequest]:
    context = (
        tag_context(params.get("Tags")) if operation.startswith("Create") or operation == "AddTags" else {}
    )
    requests = [ActionRequest(f"sagemaker:{operation}", resource_of(ctx, operation, params), context)]
    if operation.startswith("Create"):
        for member in _ROLE_MEMBERS:
            role = params.get(member)
            if isinstance(role, str):
                requests.append(
                    ActionRequest("iam:PassRole", role, {"iam:PassedToService": "sagemaker.amazonaws.com"})
                )
    return requests


def runtime_actions(ctx: RequestContext, operation: str, params: dict[str, Any]) -> list[ActionRequest]:
    """sagemaker-runtime signs as `sagemaker`: InvokeEndpoint is `sagemaker:InvokeEndpoint`."""
    return [ActionRequest(f"sagemaker:{operation}", resource_of(ctx, operation, params))]
