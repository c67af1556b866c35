"""The IAM actions IAM, STS and CloudWatch Logs operations need: `<prefix>:<Operation>` on the
entity the request names. GetCallerIdentity needs no permission (as on AWS); AssumeRole is
`sts:AssumeRole` on the role, whose trust policy is the resource policy."""

from __future__ import annotations

from typing import Any

from sagelocal.services.authz_requests import ActionRequest, tag_context
from sagelocal.services.base import RequestContext

_IAM_NAMED = (
    ("RoleName", "role"),
    ("UserName", "user"),
    ("GroupName", "group"),
    ("InstanceProfileName", "instance-profile"),
)
_NO_PERMISSION = ("GetCallerIdentity", "GetSessionToken")


def iam_actions(ctx: RequestContext, operation: str, params: dict[str, Any]) -> list[ActionRequest]:
    resource = "*"
    for member, kind in _IAM_NAMED:
        name = params.get(member)
        if isinstance(name, str):
            resource = f"arn:aws:iam::{ctx.account_id}:{kind}/{name}"
            break
    else:
        if isinstance(params.get("PolicyArn"), str):
            resource = params["PolicyArn"]
        elif isinstance(params.get("PolicySourceArn"), str):
            resource = params["PolicySourceArn"]
    context = tag_context(params.get("Tags")) if operation.startswith(("Create", "Tag")) else {}
    return [ActionRequest(f"iam:{operation}", resource, context)]


def sts_actions(ctx: RequestContext, operation: str, params: dict[str, Any]) -> list[ActionRequest]:
    if operation in _NO_PERMISSION:
        return []
    if operation == "AssumeRole":
        return [ActionRequest("sts:AssumeRole", str(params["RoleArn"]), tag_context(params.get("Tags")))]
    return [ActionRequest(f"sts:{operation}")]


def logs_actions(ctx: RequestContext, operation: str, params: dict[str, Any]) -> list[ActionRequest]:
    group = params.get("logGroupName")
    resource = "*"
    if isinstance(group, str):
        resource = f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{group}"
        stream = params.get("logStreamName")
        resource += f":log-stream:{stream}" if isinstance(stream, str) else ":*"
    context = tag_context(params.get("tags")) if operation in ("CreateLogGroup", "TagLogGroup") else {}
    return [ActionRequest(f"logs:{operation}", resource, context)]
