"""SageMaker resources: training jobs (stored as their Describe shape plus bookkeeping)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sagelocal.store.models.base import Base, NamedResource, UTCDateTime


class TrainingJob(NamedResource, Base):
    """One training job. `request` echoes the CreateTrainingJob members Describe returns;
    `transitions` is SecondaryStatusTransitions with epoch-second floats."""

    __tablename__ = "sagemaker_training_jobs"
    __table_args__ = (
        UniqueConstraint("account_id", "region", "name_lower", name="uq_sagemaker_training_jobs_name"),
    )

    status: Mapped[str] = mapped_column(String(16), index=True)
    secondary_status: Mapped[str] = mapped_column(String(32))
    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime)
    training_start_time: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    training_end_time: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    transitions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    model_artifacts: Mapped[str | None] = mapped_column(String(2048), default=None)
    final_metrics: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
