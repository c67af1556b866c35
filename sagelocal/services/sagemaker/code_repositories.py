"""Git repositories registered with SageMaker for notebook instances to clone:
Create/Describe/List/Update/Delete.

A repository is its GitConfig (RepositoryUrl, Branch, SecretArn). Only the secret can change
afterwards (UpdateCodeRepository takes GitConfigForUpdate). Besides AWS's https URLs, the URL
may name a repository on this machine (`file:///...` or an absolute path); the gateway allows
those.
"""

from __future__ import annotations

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
from sagelocal.store.models.notebooks import CodeRepository

KIND = "code-repository"
GIT_MEMBERS = ("RepositoryUrl", "Branch", "SecretArn")
SORT_KEYS = SORT_BY_TIMES


def repository_arn(ctx: RequestContext, name: str) -> str:
    return arn(ctx.region, ctx.account_id, KIND, name)


def repository_missing(ctx: RequestContext, name: str) -> Exception:
    # AWS's message starts "Cannot find CodeRepository" (terraform-provider-aws matches on it);
    # the rest follows the other resources' `... "<arn>".` form.
    return validation(f'Cannot find CodeRepository "{repository_arn(ctx, name)}".')


def find_code_repository(session: Session, ctx: RequestContext, name: str) -> CodeRepository | None:
    """The caller's code repository of this name (any case), or None."""
    return find_named(session, CodeRepository, ctx, name)


def _get(session: Session, ctx: RequestContext, name: str) -> CodeRepository:
    row = find_code_repository(session, ctx, name)
    if row is None:
        raise repository_missing(ctx, name)
    return row


def _summary(row: CodeRepository) -> dict[str, Any]:
    return {
        "CodeRepositoryName": row.name,
        "CodeRepositoryArn": row.arn,
        "CreationTime": row.creation_time,
        "LastModifiedTime": row.last_modified_time,
        "GitConfig": dict(row.git_config),
    }


class CodeRepositories:
    """The code repository operations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_code_repository(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["CodeRepositoryName"]
        the_arn = repository_arn(ctx, name)
        git_config = {k: params["GitConfig"][k] for k in GIT_MEMBERS if k in params["GitConfig"]}
        row = new_named(CodeRepository, ctx, "code-repository", name, params, git_config=git_config)
        exists = validation(f'Cannot create already existing code repository "{the_arn}".')
        try:
            with self.db.write() as session:
                if find_code_repository(session, ctx, name) is not None:
                    raise exists
                session.add(row)
        except IntegrityError:
            raise exists from None
        return {"CodeRepositoryArn": the_arn}

    def describe_code_repository(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            return _summary(_get(session, ctx, params["CodeRepositoryName"]))

    def list_code_repositories(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        # The model's defaults: by Name, Ascending.
        query = {"SortBy": "Name"} | params
        with self.db.read() as session:
            rows, token = list_resources(session, CodeRepository, ctx, query, SORT_KEYS, "Ascending")
            out: dict[str, Any] = {"CodeRepositorySummaryList": [_summary(r) for r in rows]}
        if token:
            out["NextToken"] = token
        return out

    def update_code_repository(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            row = _get(session, ctx, params["CodeRepositoryName"])
            if "SecretArn" in params.get("GitConfig", {}):
                row.git_config = dict(row.git_config) | {"SecretArn": params["GitConfig"]["SecretArn"]}
            row.last_modified_time = utcnow()
            the_arn = row.arn
        return {"CodeRepositoryArn": the_arn}

    def delete_code_repository(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as session:
            session.delete(_get(session, ctx, params["CodeRepositoryName"]))
        return {}
