"""AWS managed policies (`arn:aws:iam::aws:policy/...`), served from data files.

The catalog is `sagelocal/data/policies/index.json`: each entry names its version files, the first
being the default version. These policies belong to no account and cannot be changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "policies"
ARN_PREFIX = "arn:aws:iam::aws:policy"


@dataclass(frozen=True)
class ManagedPolicyVersion:
    """One version of an AWS managed policy."""

    version_id: str
    document: dict[str, Any]
    is_default: bool
    create_date: datetime

    @property
    def text(self) -> str:
        """The document as JSON text (what GetPolicyVersion URL-encodes)."""
        return json.dumps(self.document, indent=4)


@dataclass(frozen=True)
class ManagedPolicy:
    """An AWS managed policy: identity, description and versions (the default first)."""

    name: str
    path: str
    policy_id: str
    description: str
    create_date: datetime
    versions: tuple[ManagedPolicyVersion, ...]

    @property
    def arn(self) -> str:
        return f"{ARN_PREFIX}{self.path}{self.name}"

    @property
    def default_version(self) -> ManagedPolicyVersion:
        return self.versions[0]

    @property
    def default_version_id(self) -> str:
        return self.default_version.version_id

    @property
    def document(self) -> dict[str, Any]:
        """The default version's document."""
        return self.default_version.document

    @property
    def update_date(self) -> datetime:
        return self.default_version.create_date

    def version(self, version_id: str) -> ManagedPolicyVersion | None:
        return next((v for v in self.versions if v.version_id == version_id), None)


def _load_version(path: Path, is_default: bool) -> ManagedPolicyVersion:
    raw = json.loads(path.read_text())["PolicyVersion"]
    created = datetime.fromisoformat(raw["CreateDate"].replace("Z", "+00:00"))
    return ManagedPolicyVersion(raw["VersionId"], raw["Document"], is_default, created)


@cache
def catalog() -> dict[str, ManagedPolicy]:
    """Every AWS managed policy sagelocal knows, keyed by ARN."""
    index = json.loads((DATA_DIR / "index.json").read_text())
    out: dict[str, ManagedPolicy] = {}
    for entry in index["policies"]:
        versions = tuple(_load_version(DATA_DIR / f, i == 0) for i, f in enumerate(entry["versions"]))
        policy = ManagedPolicy(
            name=entry["name"],
            path=entry["path"],
            policy_id=entry["policy_id"],
            description=entry["description"],
            create_date=datetime.fromisoformat(entry["create_date"]),
            versions=versions,
        )
        out[policy.arn] = policy
    return out


def is_aws_managed(policy_arn: str) -> bool:
    """Whether an ARN names an AWS managed policy (whether or not sagelocal has it)."""
    return policy_arn.startswith(ARN_PREFIX + "/")


def get(policy_arn: str) -> ManagedPolicy | None:
    """The AWS managed policy with this ARN, if sagelocal has it."""
    return catalog().get(policy_arn)


def by_name(name: str) -> ManagedPolicy | None:
    """The AWS managed policy with this name, if sagelocal has it."""
    return next((p for p in catalog().values() if p.name == name), None)


def all_policies() -> list[ManagedPolicy]:
    """All AWS managed policies, by name."""
    return sorted(catalog().values(), key=lambda p: p.name.lower())
