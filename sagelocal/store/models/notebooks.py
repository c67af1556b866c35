"""SageMaker notebook resources: notebook instances, their lifecycle configurations and the Git
repositories registered for them.

Each is stored as the members its Describe call echoes (`request` or the fields below) plus the
state the platform keeps (status, times, the secrets that let a browser and the instance's own
kernels in).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sagelocal.store.models.base import Base, NamedResource, UTCDateTime


class NotebookInstance(NamedResource, Base):
    """A notebook instance: CreateNotebookInstance's members (as updated since) and its state.

    `auth_secret` signs the instance's presigned URLs and browser sessions; `credentials_token`
    is what the instance's kernels present to fetch its role's temporary credentials. `port` is
    the loopback port its JupyterLab listens on while InService; `uid` names its directory; `created` records that the
    OnCreate script and the Git clones have run (they run once, on the first start)."""

    __tablename__ = "sagemaker_notebook_instances"
    __table_args__ = (
        UniqueConstraint("account_id", "region", "name_lower", name="uq_sagemaker_notebook_instances_name"),
    )

    status: Mapped[str] = mapped_column(String(32), index=True)
    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # Names the instance's directory and marks its processes: never reused, unlike row ids.
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    auth_secret: Mapped[str] = mapped_column(String(128))
    credentials_token: Mapped[str] = mapped_column(String(128))
    port: Mapped[int | None] = mapped_column(Integer, default=None)
    created: Mapped[bool] = mapped_column(Boolean, default=False)


class NotebookLifecycleConfig(NamedResource, Base):
    """A notebook instance lifecycle configuration: its OnCreate and OnStart scripts (each a list
    of at most one `{"Content": <base64>}`, as the API carries them)."""

    __tablename__ = "sagemaker_notebook_lifecycle_configs"
    __table_args__ = (
        UniqueConstraint(
            "account_id", "region", "name_lower", name="uq_sagemaker_notebook_lifecycle_configs_name"
        ),
    )

    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime)
    on_create: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    on_start: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class CodeRepository(NamedResource, Base):
    """A Git repository registered with SageMaker (its GitConfig: RepositoryUrl, Branch,
    SecretArn) for notebook instances to clone."""

    __tablename__ = "sagemaker_code_repositories"
    __table_args__ = (
        UniqueConstraint("account_id", "region", "name_lower", name="uq_sagemaker_code_repositories_name"),
    )

    last_modified_time: Mapped[datetime] = mapped_column(UTCDateTime)
    git_config: Mapped[dict[str, Any]] = mapped_column(JSON)
