"""CloudWatch Logs: the API provider and the internal writer other services log through."""

from sagelocal.services.logs.provider import LogsProvider
from sagelocal.services.logs.writer import BufferedLogWriter, append_events

__all__ = ["BufferedLogWriter", "LogsProvider", "append_events"]
