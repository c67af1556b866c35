"""The container's two failure kinds and how they become ``output/failure``."""

from __future__ import annotations

#: DescribeTrainingJob shows at most this many characters of the failure reason.
MAX_FAILURE_REASON = 1024


class XGBoostJobError(Exception):
    """A failure of the algorithm; ``kind`` prefixes the FailureReason."""

    kind = "AlgorithmError"

    def __init__(self, message: str, caused_by: BaseException | None = None) -> None:
        if caused_by is not None:
            message = f"{message} (caused by {type(caused_by).__name__})"
        super().__init__(message)
        self.message = message

    @property
    def failure_reason(self) -> str:
        """The text written to ``output/failure``: ``<kind>: <message>``, cut at 1024 characters."""
        return f"{self.kind}: {self.message}"[:MAX_FAILURE_REASON]


class UserError(XGBoostJobError):
    """The user's mistake (hyperparameters, channels, data): reported as ``ClientError``."""

    kind = "ClientError"


class AlgorithmError(XGBoostJobError):
    """A failure inside the algorithm: reported as ``AlgorithmError``."""

    kind = "AlgorithmError"
