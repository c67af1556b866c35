"""What a request asks permission for: IAM actions on resources, with the condition keys AWS
supplies. Each service says this for its operations (`<service>/actions.py`); the authorizer
evaluates every item and the request proceeds only if all are allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagelocal.services.base import RequestContext

ContextValue = str | list[str]


@dataclass(frozen=True)
class ActionRequest:
    """One permission a request needs. `bucket` names the S3 bucket whose policy also applies."""

    action: str
    resource: str = "*"
    context: dict[str, ContextValue] = field(default_factory=dict)
    bucket: str | None = None
    object_key: str | None = None  # for s3:ExistingObjectTag/<key>


# A service's mapping: (ctx, operation name, parsed params) -> the permissions it needs.
ActionMapper = Callable[[RequestContext, str, dict[str, Any]], list[ActionRequest]]


def tag_context(tags: list[dict[str, str]] | dict[str, str] | None) -> dict[str, ContextValue]:
    """aws:RequestTag/<key> and aws:TagKeys for the tags a request sets."""
    if not tags:
        return {}
    pairs = tags.items() if isinstance(tags, dict) else ((t["Key"], t.get("Value", "")) for t in tags)
    out: dict[str, ContextValue] = {}
    keys: list[str] = []
    for key, value in pairs:
        out[f"aws:RequestTag/{key}"] = value
        keys.append(key)
    out["aws:TagKeys"] = keys
    return out
