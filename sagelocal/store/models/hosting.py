"""SageMaker hosting resources: models, endpoint configurations, endpoints and transform jobs.

Each is stored as the members its Describe call echoes (`request`) plus the state the platform
keeps (status, times, the variants actually deployed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sagelocal.store.models.base import Base, NamedResource, UTCDateTime


class SageMakerModel(NamedResource, Base):
    """A model: containers and execution role (CreateModel's members)."""

    __tablename__ = "sagemaker_models"
    __table_args__ = (
        UniqueConstraint("account_id", "region", "name_lower", name="uq_sagemaker_models_name"),
    )

    request: Mapped[dict[str, Any]] = mapped_column(JSON)


class EndpointConfig(NamedResource, Base):
    """An endpoint configuration: its production variants (CreateEndpointConfig's members)."""

    __tablename__ = "sagemaker_endpoint_configs"
    __table_args__ = (
        UniqueConstraint("account_id", "region", "name_lower", name="uq_sagemaker_endpoint_configs_name"),
    )

    request: Mapped[dict[str, Any]] = mapped_column(JSON)


class Endpoint(NamedResource, Base):
    """An endpoint. `deployment` is what serves traffic now (the config it came from and, per
    variant, the models, weights and instance counts); `pending` is the config an update is
    deploying (None when no update is in progress)."""

    __tablename__ = "sagemaker_endpoints"
    __table_args__ = (
        UniqueConstraint("account_id", "region", "name_lower", name="uq_sagemaker_endpoints_name"),
    )

    status: Mapped[str] = mapped_column(String(32), index=True)
    config_name: Mapped[str] = mapped_column(String(63))
    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime)
    deployment: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)


class TransformJob(NamedResource, Base):
    """A batch transform job (CreateTransformJob's members plus its state)."""

    __tablename__ = "sagemaker_transform_jobs"
    __table_args__ = (
        UniqueConstraint("account_id", "region", "name_lower", name="uq_sagemaker_transform_jobs_name"),
    )

    status: Mapped[str] = mapped_column(String(16), index=True)
    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime)
    transform_start_time: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    transform_end_time: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
