"""The IAM service provider: one method per botocore IAM operation, composed from mixins."""

from __future__ import annotations

from typing import ClassVar

from sagelocal.services.base import Provider
from sagelocal.services.iam.access_keys import AccessKeysMixin
from sagelocal.services.iam.actions import iam_actions
from sagelocal.services.iam.attachments import AttachmentsMixin
from sagelocal.services.iam.groups import GroupsMixin
from sagelocal.services.iam.inline import InlineMixin
from sagelocal.services.iam.login_profiles import LoginProfilesMixin
from sagelocal.services.iam.policies import PoliciesMixin
from sagelocal.services.iam.roles import RolesMixin
from sagelocal.services.iam.simulate import SimulationMixin
from sagelocal.services.iam.users import UsersMixin
from sagelocal.services.iam.versions import VersionsMixin
from sagelocal.store.db import Database


class IamProvider(
    UsersMixin,
    AccessKeysMixin,
    LoginProfilesMixin,
    RolesMixin,
    GroupsMixin,
    PoliciesMixin,
    VersionsMixin,
    AttachmentsMixin,
    InlineMixin,
    SimulationMixin,
    Provider,
):
    """AWS Identity and Access Management, persisted in the store. IAM is global: every entity
    belongs to the request's account, whatever the region."""

    service_name: ClassVar[str] = "iam"
    authz_actions = staticmethod(iam_actions)  # type: ignore[assignment]

    def __init__(self, db: Database) -> None:
        self.db = db
