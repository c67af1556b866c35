"""Temporary security credentials issued by STS (AssumeRole, GetSessionToken)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sagelocal.store.models.base import Base, UTCDateTime


class StsSession(Base):
    """One set of temporary credentials and the principal they act as."""

    __tablename__ = "sts_sessions"

    access_key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_access_key: Mapped[str] = mapped_column(String(64))
    session_token: Mapped[str] = mapped_column(Text)
    expiration: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    account_id: Mapped[str] = mapped_column(String(12))
    # "assumed-role" (AssumeRole) or "user" (GetSessionToken)
    kind: Mapped[str] = mapped_column(String(16))
    principal_arn: Mapped[str] = mapped_column(String(2048))
    user_id: Mapped[str] = mapped_column(String(256))
    role_arn: Mapped[str | None] = mapped_column(String(2048), default=None)
    session_name: Mapped[str | None] = mapped_column(String(64), default=None)
    source_identity: Mapped[str | None] = mapped_column(String(64), default=None)
    # Session policies (inline JSON and managed ARNs) narrow what the session may do.
    session_policy: Mapped[str | None] = mapped_column(Text, default=None)
    policy_arns: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    tags: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
