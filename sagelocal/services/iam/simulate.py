"""SimulatePrincipalPolicy and SimulateCustomPolicy, answered by the same engine that authorizes
requests: for each action and resource, `allowed`, `explicitDeny` or `implicitDeny` and the
statements that decided it. The SageMaker SDK v3 calls SimulatePrincipalPolicy to check an
execution role before it trains."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext
from sagelocal.services.iam.common import invalid_input, no_such_entity
from sagelocal.services.iam.policy import AuthzRequest, CompiledPolicy, PolicyError, compile_policy, evaluate
from sagelocal.services.iam.principal_policies import Document, group_policies, role_policies, user_policies
from sagelocal.store.db import Database
from sagelocal.store.models.iam import IamGroup, IamRole, IamUser

_DECISIONS = {"allow": "allowed", "explicit_deny": "explicitDeny", "implicit_deny": "implicitDeny"}


def _source_documents(session: Session, arn: str) -> list[Document]:
    """The identity policies of the user, role or group `arn` names."""
    kind = arn.split(":", 5)[-1].split("/", 1)[0] if arn.count(":") >= 5 else ""
    entity: IamUser | IamRole | IamGroup | None = None
    if kind == "user":
        entity = session.scalar(select(IamUser).where(IamUser.arn == arn))
    elif kind == "role":
        entity = session.scalar(select(IamRole).where(IamRole.arn == arn))
    elif kind == "group":
        entity = session.scalar(select(IamGroup).where(IamGroup.arn == arn))
    else:
        raise invalid_input(f"Invalid ARN: {arn}. The policy source must be a user, group or role.")
    if entity is None:
        raise no_such_entity(f"Policy source {arn} does not exist.")
    if isinstance(entity, IamUser):
        return user_policies(session, entity)
    if isinstance(entity, IamRole):
        return role_policies(session, entity)
    return group_policies(session, entity)


def _compile(text: str, source: str) -> CompiledPolicy:
    try:
        return compile_policy(text, source)
    except PolicyError as exc:
        raise invalid_input(f"Policy document could not be parsed: {exc}") from None


def source_type(source: str) -> str:
    """The model's PolicySourceType for a policy's source label."""
    if source.startswith("arn:aws:iam::aws:policy/"):
        return "aws-managed"
    if ":policy/" in source:
        return "user-managed"
    if source == "resource policy":
        return "resource"
    kind = source.split("/", 1)[0]
    return kind if kind in ("user", "group", "role") else "none"


def _context(entries: list[dict[str, Any]]) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for entry in entries:
        values = list(entry.get("ContextKeyValues", []))
        many = str(entry.get("ContextKeyType", "")).endswith("List")
        out[entry["ContextKeyName"]] = values if many or len(values) != 1 else values[0]
    return out


def simulate(
    ctx: RequestContext,
    principal_arn: str,
    identity: list[CompiledPolicy],
    params: dict[str, Any],
) -> dict[str, Any]:
    resource_policy = (
        _compile(params["ResourcePolicy"], "resource policy") if "ResourcePolicy" in params else None
    )
    context = _context(params.get("ContextEntries", []))
    caller = params.get("CallerArn") or principal_arn
    results = []
    for action in params["ActionNames"]:
        for resource in params.get("ResourceArns") or ["*"]:
            request = AuthzRequest(caller, ctx.account_id, action, resource, context)
            decision = evaluate(
                request, identity, resource_policy, resource_account=params.get("ResourceOwner"), explain=True
            )
            results.append(
                {
                    "EvalActionName": action,
                    "EvalResourceName": resource,
                    "EvalDecision": _DECISIONS[decision.kind],
                    "MatchedStatements": [
                        {"SourcePolicyId": ref.source, "SourcePolicyType": source_type(ref.source)}
                        for ref in decision.statements
                    ],
                    "MissingContextValues": [],
                }
            )
    return {"EvaluationResults": results, "IsTruncated": False}


class SimulationMixin:
    db: Database

    def simulate_principal_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source = params["PolicySourceArn"]
        with self.db.read() as session:
            documents = _source_documents(session, source)
        documents += [
            (text, f"PolicyInputList.{i + 1}") for i, text in enumerate(params.get("PolicyInputList", []))
        ]
        return simulate(ctx, source, [_compile(text, src) for text, src in documents], params)

    def simulate_custom_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies = [
            _compile(text, f"PolicyInputList.{i + 1}") for i, text in enumerate(params["PolicyInputList"])
        ]
        caller = params.get("CallerArn") or f"arn:aws:iam::{ctx.account_id}:user/SimulatedUser"
        return simulate(ctx, caller, policies, params)
