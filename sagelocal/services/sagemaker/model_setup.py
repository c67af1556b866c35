"""Preparing what a model's replicas run: the model server for its image, its artifacts fetched
with its execution role into a directory, and the container environment (shared by endpoints
and batch transform)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sagelocal.compute import images
from sagelocal.compute.replicas import ReplicaSpec
from sagelocal.services.base import ServiceError
from sagelocal.services.iam.identity import find_role_by_arn
from sagelocal.services.sagemaker.artifacts import MARKER, ArtifactError, s3_client, unpack
from sagelocal.services.sagemaker.roles import role_credentials
from sagelocal.services.sts.provider import StsProvider
from sagelocal.store.db import Database


class SetupError(Exception):
    """The model cannot be prepared; the message says why (a FailureReason)."""


class ModelSetup:
    """Turns a model container spec (Image, ModelDataUrl, Environment, RoleArn) into a
    `ReplicaSpec` under a directory of the caller's choosing."""

    def __init__(self, db: Database, endpoint_url: str) -> None:
        self.db = db
        self.endpoint_url = endpoint_url
        self.sts = StsProvider(db)

    def credentials(self, account_id: str, region: str, role_arn: str | None, label: str) -> dict[str, str]:
        if not role_arn:
            raise SetupError(
                "The model has no ExecutionRoleArn: SageMaker needs a role to read its model data."
            )
        with self.db.read() as session:
            role = find_role_by_arn(session, role_arn)
        if role is None:
            raise SetupError(f"Could not assume role {role_arn}.")
        try:
            return role_credentials(self.sts, account_id, region, role, label)
        except ServiceError as exc:
            raise SetupError(f"Could not assume role {role_arn}: {exc.message}") from None

    def replica_spec(
        self,
        account_id: str,
        region: str,
        label: str,
        root: Path,
        spec: dict[str, Any],
        extra_env: dict[str, str] | None = None,
    ) -> ReplicaSpec:
        """Resolve the image, fetch model data (and script-mode code) into `root`, and give the
        replicas' spec; raises SetupError. A complete `root` from an earlier run is reused."""
        env: dict[str, str] = dict(spec.get("Environment") or {})
        try:
            server = images.resolve_serving(spec["Image"], env)
        except images.UnknownImage as exc:
            raise SetupError(str(exc)) from None
        model_dir = root / "model"
        submit = env.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
        wanted = [model_dir] if spec.get("ModelDataUrl") else []
        wanted += [root / "code"] if submit.startswith("s3://") else []
        s3 = None
        if any(not (d / MARKER).exists() for d in wanted):
            creds = self.credentials(account_id, region, spec.get("RoleArn"), label)
            s3 = s3_client(self.endpoint_url, region, creds)
        code_dir: Path | None = None
        try:
            if spec.get("ModelDataUrl"):
                unpack(s3, spec["ModelDataUrl"], model_dir)
            else:
                model_dir.mkdir(parents=True, exist_ok=True)
            if submit.startswith("s3://"):
                code_dir = unpack(s3, submit, root / "code")
            elif submit.startswith("/opt/ml/model/"):
                code_dir = model_dir / submit.removeprefix("/opt/ml/model/")
            elif (model_dir / "code").is_dir():
                code_dir = model_dir / "code"
        except ArtifactError as exc:
            raise SetupError(str(exc)) from None
        return ReplicaSpec(model_dir, env | server.env | (extra_env or {}), code_dir)
