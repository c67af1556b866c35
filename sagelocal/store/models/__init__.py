"""All tables. Importing this package registers every model on `Base.metadata`."""

from sagelocal.store.models import (
    billing,  # noqa: F401
    hosting,  # noqa: F401
    iam,  # noqa: F401
    logs,  # noqa: F401
    notebooks,  # noqa: F401
    platform,  # noqa: F401
    s3,  # noqa: F401
    sagemaker,  # noqa: F401
    sts,  # noqa: F401
)
from sagelocal.store.models.base import Base, UTCDateTime

__all__ = ["Base", "UTCDateTime"]
