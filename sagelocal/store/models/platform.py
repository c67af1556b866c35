"""Platform-wide facts kept in the store: the account, the region, when the home was made."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sagelocal.store.models.base import Base


class PlatformFact(Base):
    """One key/value fact about this installation (account_id, created_at, ...)."""

    __tablename__ = "platform_facts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
