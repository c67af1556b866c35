"""IAM's tables: users, access keys, roles, groups, customer managed policies and their versions,
policy attachments and inline policies.

IAM is global: every row belongs to an account (`account_id`), not a region. Names are unique per
account regardless of case (AWS: "ADMIN" and "admin" cannot both exist), so each named entity keeps
`name_key` = the lower-cased name under a unique constraint, next to the name as created.
AWS managed policies (`arn:aws:iam::aws:policy/...`) are data files, not rows; attachments refer to
policies by ARN so they can point at either kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sagelocal.store.models.base import Base, UTCDateTime

# Attachment / inline policy owners.
ENTITY_USER = "user"
ENTITY_ROLE = "role"
ENTITY_GROUP = "group"


class IamUser(Base):
    """An IAM user (the Describe shape `User` plus the lower-cased name for uniqueness)."""

    __tablename__ = "iam_users"
    __table_args__ = (UniqueConstraint("account_id", "name_key"),)

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # AIDA...
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512), default="/")
    arn: Mapped[str] = mapped_column(String(2048))
    create_date: Mapped[datetime] = mapped_column(UTCDateTime())
    password_last_used: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    permissions_boundary: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    tags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class IamLoginProfile(Base):
    """A user's console password: an argon2id hash only (the password itself is never stored), and
    whether it must be changed at the next sign-in."""

    __tablename__ = "iam_login_profiles"

    user_id: Mapped[str] = mapped_column(ForeignKey("iam_users.user_id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    password_reset_required: Mapped[bool] = mapped_column(Boolean, default=False)
    create_date: Mapped[datetime] = mapped_column(UTCDateTime())


class IamAccessKey(Base):
    """A user's long-term credential: `AKIA...` id, its secret, status and last use."""

    __tablename__ = "iam_access_keys"

    access_key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("iam_users.user_id"), index=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    secret: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="Active")  # Active | Inactive
    create_date: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_service: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_used_region: Mapped[str | None] = mapped_column(String(64), nullable=True)


class IamRole(Base):
    """An IAM role; `assume_role_policy` is the trust policy JSON text exactly as submitted."""

    __tablename__ = "iam_roles"
    __table_args__ = (UniqueConstraint("account_id", "name_key"),)

    role_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # AROA...
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512), default="/")
    arn: Mapped[str] = mapped_column(String(2048))
    assume_role_policy: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    max_session_duration: Mapped[int] = mapped_column(Integer, default=3600)
    create_date: Mapped[datetime] = mapped_column(UTCDateTime())
    permissions_boundary: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    tags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    last_used_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_region: Mapped[str | None] = mapped_column(String(64), nullable=True)


class IamGroup(Base):
    """An IAM group."""

    __tablename__ = "iam_groups"
    __table_args__ = (UniqueConstraint("account_id", "name_key"),)

    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # AGPA...
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512), default="/")
    arn: Mapped[str] = mapped_column(String(2048))
    create_date: Mapped[datetime] = mapped_column(UTCDateTime())


class IamGroupMember(Base):
    """A user's membership of a group."""

    __tablename__ = "iam_group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("iam_groups.group_id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("iam_users.user_id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IamPolicy(Base):
    """A customer managed policy (`arn:aws:iam::<acct>:policy<path><name>`)."""

    __tablename__ = "iam_policies"
    __table_args__ = (UniqueConstraint("account_id", "name_key"),)

    policy_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # ANPA...
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512), default="/")
    arn: Mapped[str] = mapped_column(String(2048), unique=True)
    description: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    default_version_id: Mapped[str] = mapped_column(String(32))
    # Version ids only grow: after deleting v2 of v1..v3 the next one is still v4.
    next_version: Mapped[int] = mapped_column(Integer, default=2)
    create_date: Mapped[datetime] = mapped_column(UTCDateTime())
    update_date: Mapped[datetime] = mapped_column(UTCDateTime())
    tags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class IamPolicyVersion(Base):
    """One version (v1, v2, ...) of a customer managed policy; one per policy is the default."""

    __tablename__ = "iam_policy_versions"

    policy_id: Mapped[str] = mapped_column(ForeignKey("iam_policies.policy_id"), primary_key=True)
    version_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)  # the number in the version id, for ordering
    document: Mapped[str] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    create_date: Mapped[datetime] = mapped_column(UTCDateTime())


class IamPolicyAttachment(Base):
    """A managed policy (AWS or customer, by ARN) attached to a user, role or group."""

    __tablename__ = "iam_policy_attachments"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "policy_arn"),
        Index("ix_iam_policy_attachments_entity", "entity_type", "entity_id"),
        Index("ix_iam_policy_attachments_account_policy", "account_id", "policy_arn"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12))
    entity_type: Mapped[str] = mapped_column(String(8))  # user | role | group
    entity_id: Mapped[str] = mapped_column(String(32))  # the user's, role's or group's id
    policy_arn: Mapped[str] = mapped_column(String(2048))
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IamInlinePolicy(Base):
    """An inline policy embedded in a user, role or group (document as submitted)."""

    __tablename__ = "iam_inline_policies"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "name"),
        Index("ix_iam_inline_policies_entity", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    entity_type: Mapped[str] = mapped_column(String(8))
    entity_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    document: Mapped[str] = mapped_column(Text)
    update_date: Mapped[datetime] = mapped_column(UTCDateTime())
