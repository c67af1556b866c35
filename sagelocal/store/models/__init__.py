"""All tables. Importing this package registers every model on `Base.metadata`."""

from sagelocal.store.models import iam  # noqa: F401
from sagelocal.store.models import logs  # noqa: F401
from sagelocal.store.models import platform  # noqa: F401
from sagelocal.store.models import sts  # noqa: F401
from sagelocal.store.models.base import Base, UTCDateTime

__all__ = ["Base", "UTCDateTime"]
