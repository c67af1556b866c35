"""Notebook instance lifecycle configurations: Create/Describe/List/Update/Delete.

A configuration holds at most one OnCreate and one OnStart shell script, each carried base64
encoded (as the API sends them). Notebook instances read the scripts when they start, so an
update applies from an instance's next start (as on AWS).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.sagemaker.common import (
    SORT_BY_TIMES,
    arn,
    find_named,
    list_resources,
    new_named,
    validation,
)
from sagelocal.store.db import Database
from sagelocal.store.models.notebooks import NotebookLifecycleConfig

KIND = "notebook-instance-lifecycle-config"
HOOKS = ("OnCreate", "OnStart")
SORT_KEYS = SORT_BY_TIMES


def config_arn(ctx: RequestContext, name: str) -> str:
    return arn(ctx.region, ctx.account_id, KIND, name)


def _failure(action: str, ctx: RequestContext, name: str, details: str) -> Exception:
    """AWS's wording: `Unable to <action> Notebook Instance Lifecycle Config <arn>. (Details: ...)`."""
    return validation(
        f"Unable to {action} Notebook Instance Lifecycle Config {config_arn(ctx, name)}. "
        f"(Details: Notebook Instance Lifecycle Config {details}.)"
    )


def find_lifecycle_config(session: Session, ctx: RequestContext, name: str) -> NotebookLifecycleConfig | None:
    """The caller's lifecycle configuration of this name (any case), or None."""
    return find_named(session, NotebookLifecycleConfig, ctx, name)


def decode_content(content: str) -> bytes | None:
    """The script a hook's base64 `Content` encodes, or None if it is not (non-empty) base64.
    Line breaks are allowed: `base64` wraps its output at 76 columns unless told not to."""
    text = "".join(content.split())
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _script(hooks: list[dict[str, str]]) -> str | None:
    if not hooks or "Content" not in hooks[0]:
        return None
    raw = decode_content(hooks[0]["Content"]) or b""
    return raw.decode("utf-8", errors="replace")


def scripts(row: NotebookLifecycleConfig) -> tuple[str | None, str | None]:
    """The configuration's OnCreate and OnStart script text (None where it has none)."""
    return _script(row.on_create), _script(row.on_start)


def _hooks(params: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The OnCreate/OnStart lists the request gives, each checked to be base64."""
    out: dict[str, list[dict[str, str]]] = {}
    for hook in HOOKS:
        if hook not in params:
            continue
        for item in params[hook]:
            if "Content" in item and decode_content(item["Content"]) is None:
                raise validation(f"{hook} content must be a base64-encoded string.")
        out[hook] = [dict(item) for item in params[hook]]
    return out


def _get(session: Session, ctx: RequestContext, name: str, action: str) -> NotebookLifecycleConfig:
    row = find_lifecycle_config(session, ctx, name)
    if row is None:
        raise _failure(action, ctx, name, "does not exist")
    return row


class LifecycleConfigs:
    """The notebook instance lifecycle configuration operations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_notebook_instance_lifecycle_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name: str = params["NotebookInstanceLifecycleConfigName"]
        hooks = _hooks(params)
        the_arn = config_arn(ctx, name)
        row = new_named(
            NotebookLifecycleConfig,
            ctx,
            KIND,
            name,
            params,
            on_create=hooks.get("OnCreate", []),
            on_start=hooks.get("OnStart", []),
        )
        exists = _failure("create", ctx, name, "already exists")
        try:
            with self.db.write() as session:
                if find_lifecycle_config(session, ctx, name) is not None:
                    raise exists
                session.add(row)
        except IntegrityError:
            raise exists from None
        return {"NotebookInstanceLifecycleConfigArn": the_arn}

    def describe_notebook_instance_lifecycle_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.db.read() as session:
            row = _get(session, ctx, params["NotebookInstanceLifecycleConfigName"], "describe")
            out: dict[str, Any] = {
                "NotebookInstanceLifecycleConfigArn": row.arn,
                "NotebookInstanceLifecycleConfigName": row.name,
            }
            if row.on_create:
                out["OnCreate"] = row.on_create
            if row.on_start:
                out["OnStart"] = row.on_start
            out["LastModifiedTime"] = row.last_modified_time
            out["CreationTime"] = row.creation_time
        return out

    def list_notebook_instance_lifecycle_configs(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        # SortBy defaults to CreationTime (the model says so); the model gives no SortOrder
        # default, so this follows the other CreationTime-sorted lists: newest first.
        with self.db.read() as session:
            rows, token = list_resources(session, NotebookLifecycleConfig, ctx, params, SORT_KEYS)
            summaries = [
                {
                    "NotebookInstanceLifecycleConfigName": r.name,
                    "NotebookInstanceLifecycleConfigArn": r.arn,
                    "CreationTime": r.creation_time,
                    "LastModifiedTime": r.last_modified_time,
                }
                for r in rows
            ]
        out: dict[str, Any] = {"NotebookInstanceLifecycleConfigs": summaries}
        if token:
            out["NextToken"] = token
        return out

    def update_notebook_instance_lifecycle_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        hooks = _hooks(params)
        with self.db.write() as session:
            row = _get(session, ctx, params["NotebookInstanceLifecycleConfigName"], "update")
            if "OnCreate" in hooks:
                row.on_create = hooks["OnCreate"]
            if "OnStart" in hooks:
                row.on_start = hooks["OnStart"]
            row.last_modified_time = utcnow()
        return {}

    def delete_notebook_instance_lifecycle_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.db.write() as session:
            session.delete(_get(session, ctx, params["NotebookInstanceLifecycleConfigName"], "delete"))
        return {}
