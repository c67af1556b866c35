"""Sending one invocation to a replica over a pooled keep-alive HTTP/1.1 connection.

Replicas listen on loopback ports; each port keeps a small stack of idle connections so a
request reuses one instead of paying a TCP handshake. A connection that fails before any
response byte arrives raises `ReplicaUnavailable` (the caller may try another replica).
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass

MODEL_TIMEOUT = 60.0  # SageMaker gives a container 60 s to answer an invocation


class ReplicaUnavailable(Exception):
    """Nothing answered on the replica's port (it died or is restarting)."""


class ReplicaTimeout(Exception):
    """The replica accepted the request but did not answer within the model timeout."""


@dataclass
class ReplicaResponse:
    status: int
    body: bytes
    content_type: str | None
    custom_attributes: str | None


class ConnectionPool:
    """Idle keep-alive connections per port (thread-safe)."""

    def __init__(self, per_port: int = 32) -> None:
        self._idle: dict[int, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._per_port = per_port

    def _take(self, port: int) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(port)
            return idle.pop() if idle else None

    def _give(self, port: int, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(port, [])
            if len(idle) < self._per_port:
                idle.append(conn)
                return
        conn.close()

    def forget(self, port: int) -> None:
        """Close the idle connections to a port whose replica is gone."""
        with self._lock:
            idle = self._idle.pop(port, [])
        for conn in idle:
            conn.close()

    def post(self, port: int, path: str, body: bytes, headers: dict[str, str]) -> ReplicaResponse:
        """POST `body`; a pooled connection that turns out stale is replaced once."""
        for attempt in (0, 1):
            conn = self._take(port) if attempt == 0 else None
            fresh = conn is None
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=MODEL_TIMEOUT)
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data = response.read()
            except TimeoutError:
                conn.close()
                raise ReplicaTimeout() from None
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if fresh:
                    raise ReplicaUnavailable(str(exc)) from None
                continue  # the idle connection had been closed by the replica: retry on a new one
            if response.will_close:
                conn.close()
            else:
                self._give(port, conn)
            return ReplicaResponse(
                response.status,
                data,
                response.getheader("Content-Type"),
                response.getheader("X-Amzn-SageMaker-Custom-Attributes"),
            )
        raise ReplicaUnavailable("no connection")  # not reached
