"""SageMaker notebook instances: Create/Describe/List/Start/Stop/Update/Delete and presigned URLs.

These calls check the request and the state machine, store the new state and hand the work to
`notebook_run.NotebookRunner` (which starts JupyterLab, runs lifecycle scripts, clones
repositories and persists Pending → InService | Failed, Stopping → Stopped, Deleting → gone):

    (create) → Pending → InService | Failed
    InService --Stop--> Stopping → Stopped
    Stopped | Failed --Start--> Pending
    Stopped --Update--> Updating → Stopped
    Stopped | Failed --Delete--> Deleting → gone
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sagelocal.billing import meter
from sagelocal.notebook_server.tokens import mint_url_token
from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.sagemaker.code_repositories import find_code_repository
from sagelocal.services.sagemaker.common import (
    arn,
    find_named,
    list_resources,
    new_named,
    validation,
)
from sagelocal.services.sagemaker.lifecycle_configs import find_lifecycle_config
from sagelocal.services.sagemaker.roles import require_role
from sagelocal.store.db import Database
from sagelocal.store.models.notebooks import NotebookInstance

# CreateNotebookInstance's members a Describe echoes (two under other names, see `describe_shape`).
ECHOED = (
    "InstanceType",
    "SubnetId",
    "SecurityGroupIds",
    "RoleArn",
    "KmsKeyId",
    "LifecycleConfigName",
    "DirectInternetAccess",
    "VolumeSizeInGB",
    "AcceleratorTypes",
    "DefaultCodeRepository",
    "AdditionalCodeRepositories",
    "RootAccess",
    "PlatformIdentifier",
    "InstanceMetadataServiceConfiguration",
    "IpAddressType",
)
# Members Describe places (or renames) before the rest of the echoed ones.
_DESCRIBED_FIRST = frozenset(
    {"InstanceType", "SubnetId", "SecurityGroupIds", "RoleArn", "KmsKeyId", "LifecycleConfigName"}
)
DEFAULTS: dict[str, Any] = {
    "DirectInternetAccess": "Enabled",
    "VolumeSizeInGB": 5,
    "RootAccess": "Enabled",
    "PlatformIdentifier": "notebook-al2023-v1",
    "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"},
    "IpAddressType": "ipv4",
}
DEFAULT_VOLUME_GB = DEFAULTS["VolumeSizeInGB"]
# Members UpdateNotebookInstance may remove, and the flag that removes each.
DISASSOCIATE = (
    ("LifecycleConfigName", "DisassociateLifecycleConfig"),
    ("AcceleratorTypes", "DisassociateAcceleratorTypes"),
    ("DefaultCodeRepository", "DisassociateDefaultCodeRepository"),
    ("AdditionalCodeRepositories", "DisassociateAdditionalCodeRepositories"),
)
# Platforms AWS no longer launches notebook instances on.
RETIRED_PLATFORMS = ("notebook-al1-v1", "notebook-al2-v1")
SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "Name": lambda r: r.name,
    "CreationTime": lambda r: r.creation_time,
    "Status": lambda r: r.status,
}
DEFAULT_SESSION_SECONDS = 43200


def instance_arn(ctx: RequestContext, name: str) -> str:
    return arn(ctx.region, ctx.account_id, "notebook-instance", name)


def transition_error(row: NotebookInstance, allowed: tuple[str, ...], target: str) -> Exception:
    """AWS's message for an operation the instance's status does not allow."""
    return validation(
        f"Status ({row.status}) not in ([{', '.join(allowed)}]). Unable to transition to ({target}) "
        f"for Notebook Instance ({row.arn})."
    )


def _check_platform(params: dict[str, Any]) -> None:
    platform = params.get("PlatformIdentifier")
    if platform in RETIRED_PLATFORMS:
        raise validation(f"Platform identifier ({platform}) is not supported for this service.")


def describe_shape(row: NotebookInstance, url: str) -> dict[str, Any]:
    """DescribeNotebookInstance's answer for `row`; `url` is where its JupyterLab is reached."""
    req = row.request
    out: dict[str, Any] = {
        "NotebookInstanceArn": row.arn,
        "NotebookInstanceName": row.name,
        "NotebookInstanceStatus": row.status,
    }
    if row.failure_reason:
        out["FailureReason"] = row.failure_reason
    out["Url"] = url
    for member in ("InstanceType", "SubnetId"):
        if member in req:
            out[member] = req[member]
    if "SecurityGroupIds" in req:
        out["SecurityGroups"] = req["SecurityGroupIds"]
    for member in ("RoleArn", "KmsKeyId"):
        if member in req:
            out[member] = req[member]
    if req.get("SubnetId"):
        out["NetworkInterfaceId"] = req["NetworkInterfaceId"]
    out["LastModifiedTime"] = row.last_modified_time
    out["CreationTime"] = row.creation_time
    if "LifecycleConfigName" in req:
        out["NotebookInstanceLifecycleConfigName"] = req["LifecycleConfigName"]
    for member in ECHOED:
        if member in req and member not in _DESCRIBED_FIRST:
            out[member] = req[member]
    return out


class NotebookInstances:
    """The notebook-instance operations. `runner` does the work each transition starts;
    `url_for(row)` says where an instance's JupyterLab is reached (Describe's `Url`)."""

    def __init__(self, db: Database, runner: Any, url_for: Callable[[NotebookInstance], str], url_ttl: float):
        self.db = db
        self.runner = runner
        self.url_for = url_for
        self.url_ttl = url_ttl

    def _get(self, session: Session, ctx: RequestContext, name: str) -> NotebookInstance:
        row = find_named(session, NotebookInstance, ctx, name)
        if row is None:
            raise validation("RecordNotFound")
        return row

    # Checks shared by Create and Update.
    def _check_references(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> None:
        lcc = params.get("LifecycleConfigName")
        if lcc and find_lifecycle_config(session, ctx, lcc) is None:
            lcc_arn = arn(ctx.region, ctx.account_id, "notebook-instance-lifecycle-config", lcc)
            raise validation(
                f"Unable to describe Notebook Instance Lifecycle Config {lcc_arn}. "
                "(Details: Notebook Instance Lifecycle Config does not exist.)"
            )
        repos = [params["DefaultCodeRepository"]] if params.get("DefaultCodeRepository") else []
        repos += params.get("AdditionalCodeRepositories") or []
        if len(set(repos)) != len(repos):
            raise validation("The default and additional code repositories must all be different.")
        for repo in repos:
            if "/" not in repo and find_code_repository(session, ctx, repo) is None:
                raise validation(
                    f"Code repository {arn(ctx.region, ctx.account_id, 'code-repository', repo)} "
                    "does not exist."
                )

    def create_notebook_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["NotebookInstanceName"]
        the_arn = instance_arn(ctx, name)
        if params.get("DirectInternetAccess") == "Disabled" and not params.get("SubnetId"):
            raise validation(
                "Direct internet access can be disabled only for a notebook instance in a VPC: specify SubnetId."
            )
        if params.get("SecurityGroupIds") and not params.get("SubnetId"):
            raise validation("SecurityGroupIds can be specified only with a SubnetId.")
        _check_platform(params)
        require_role(self.db, ctx, params["RoleArn"])
        request = DEFAULTS | {k: params[k] for k in ECHOED if k in params}
        if params.get("SubnetId"):
            request["NetworkInterfaceId"] = "eni-" + secrets.token_hex(8)
        try:
            with self.db.write() as session:
                if find_named(session, NotebookInstance, ctx, name) is not None:
                    raise validation(f"Cannot create a duplicate Notebook Instance ({the_arn})")
                self._check_references(session, ctx, params)
                row = new_named(
                    NotebookInstance,
                    ctx,
                    "notebook-instance",
                    name,
                    params,
                    status="Pending",
                    request=request,
                    uid=uuid.uuid4().hex,
                    auth_secret=secrets.token_urlsafe(32),
                    credentials_token=secrets.token_urlsafe(32),
                    created=False,
                )
                session.add(row)
                session.flush()
                meter.record(session, row)
                row_id = row.id
        except IntegrityError:
            raise validation(f"Cannot create a duplicate Notebook Instance ({the_arn})") from None
        self.runner.launch(row_id)
        return {"NotebookInstanceArn": the_arn}

    def describe_notebook_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            row = self._get(session, ctx, params["NotebookInstanceName"])
            return describe_shape(row, self.url_for(row))

    def list_notebook_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            rows, token = list_resources(
                session,
                NotebookInstance,
                ctx,
                {"SortBy": "Name"} | params,
                SORT_KEYS,
                "Ascending",
                keep=self._matcher(params),
            )
            summaries = []
            for row in rows:
                shape = describe_shape(row, self.url_for(row))
                summary = {
                    k: shape[k]
                    for k in (
                        "NotebookInstanceName",
                        "NotebookInstanceArn",
                        "NotebookInstanceStatus",
                        "Url",
                        "InstanceType",
                        "CreationTime",
                        "LastModifiedTime",
                        "NotebookInstanceLifecycleConfigName",
                        "DefaultCodeRepository",
                        "AdditionalCodeRepositories",
                    )
                    if k in shape
                }
                summaries.append(summary)
        out: dict[str, Any] = {"NotebookInstances": summaries}
        if token:
            out["NextToken"] = token
        return out

    @staticmethod
    def _matcher(params: dict[str, Any]) -> Callable[[NotebookInstance], bool]:
        """ListNotebookInstances' own filters (lifecycle configuration and repositories)."""
        lcc = params.get("NotebookInstanceLifecycleConfigNameContains", "").lower()
        default = params.get("DefaultCodeRepositoryContains", "").lower()
        additional = params.get("AdditionalCodeRepositoryEquals")

        def keep(row: NotebookInstance) -> bool:
            req = row.request
            return (
                (not lcc or lcc in req.get("LifecycleConfigName", "").lower())
                and (not default or default in req.get("DefaultCodeRepository", "").lower())
                and (not additional or additional in req.get("AdditionalCodeRepositories", []))
            )

        return keep

    def _transition(
        self, ctx: RequestContext, name: str, allowed: tuple[str, ...], target: str, status: str
    ) -> int:
        """Move the instance from one of `allowed` to `status` (AWS names the move `target`)."""
        with self.db.write() as session:
            row = self._get(session, ctx, name)
            if row.status not in allowed:
                raise transition_error(row, allowed, target)
            row.status = status
            row.failure_reason = None
            row.last_modified_time = utcnow()
            meter.record(session, row)
            return row.id

    def start_notebook_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row_id = self._transition(
            ctx, params["NotebookInstanceName"], ("Stopped", "Failed"), "Pending", "Pending"
        )
        self.runner.launch(row_id)
        return {}

    def stop_notebook_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row_id = self._transition(ctx, params["NotebookInstanceName"], ("InService",), "Stopping", "Stopping")
        self.runner.stop(row_id)
        return {}

    def delete_notebook_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row_id = self._transition(
            ctx, params["NotebookInstanceName"], ("Stopped", "Failed"), "Deleting", "Deleting"
        )
        self.runner.delete(row_id)
        return {}

    def update_notebook_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for member, flag in DISASSOCIATE:
            if params.get(member) and params.get(flag):
                raise validation(f"{member} and {flag} cannot both be specified.")
        if "RoleArn" in params:
            require_role(self.db, ctx, params["RoleArn"])
        _check_platform(params)
        with self.db.write() as session:
            row = self._get(session, ctx, params["NotebookInstanceName"])
            if row.status != "Stopped":
                raise transition_error(row, ("Stopped",), "Updating")
            request = dict(row.request)
            size = params.get("VolumeSizeInGB")
            current = request.get("VolumeSizeInGB", DEFAULT_VOLUME_GB)
            if size is not None and size < current:
                raise validation(
                    f"Volume size can only be increased: the notebook instance has "
                    f"{current} GB and {size} GB was requested."
                )
            self._apply_update(request, params)
            # Only what this update names must exist: a deleted configuration or repository can
            # still be disassociated.
            named = {k: request[k] for k in ("LifecycleConfigName", "DefaultCodeRepository") if k in params}
            if "AdditionalCodeRepositories" in params or "DefaultCodeRepository" in params:
                named["AdditionalCodeRepositories"] = request.get("AdditionalCodeRepositories", [])
                named.setdefault("DefaultCodeRepository", request.get("DefaultCodeRepository"))
            self._check_references(session, ctx, named)
            row.request = request
            row.status = "Updating"
            row.last_modified_time = utcnow()
            row_id = row.id
        self.runner.finish_update(row_id)
        return {}

    @staticmethod
    def _apply_update(request: dict[str, Any], params: dict[str, Any]) -> None:
        for member in (
            "InstanceType",
            "RoleArn",
            "LifecycleConfigName",
            "VolumeSizeInGB",
            "DefaultCodeRepository",
            "AdditionalCodeRepositories",
            "AcceleratorTypes",
            "RootAccess",
            "InstanceMetadataServiceConfiguration",
            "IpAddressType",
            "PlatformIdentifier",
        ):
            if member in params:
                request[member] = params[member]
        for member, flag in DISASSOCIATE:
            if params.get(flag):
                request.pop(member, None)

    def create_presigned_notebook_instance_url(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        seconds = int(params.get("SessionExpirationDurationInSeconds", DEFAULT_SESSION_SECONDS))
        with self.db.read() as session:
            row = self._get(session, ctx, params["NotebookInstanceName"])
            token = mint_url_token(row.auth_secret, row.name, seconds, url_ttl=self.url_ttl)
            url = self.url_for(row)
        return {"AuthorizedUrl": f"http://{url}?authToken={token}"}
