"""Sending one invocation to a replica over a pooled keep-alive HTTP/1.1 connection, on the
server's event loop (no worker thread per invocation).

Replicas listen on loopback ports; each port keeps a stack of idle connections so a request
reuses one instead of paying a TCP handshake. Responses are parsed with httptools (the C parser
uvicorn uses). A connection that fails before any response byte arrives raises
`ReplicaUnavailable` (the caller may try another replica); a replica that does not answer within
the model timeout raises `ReplicaTimeout`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httptools

MODEL_TIMEOUT = 60.0  # SageMaker gives a container 60 s to answer an invocation
_FORWARDED = ("content-type", "x-amzn-sagemaker-custom-attributes")


class ReplicaUnavailable(Exception):
    """Nothing answered on the replica's port (it died or is restarting)."""


class ReplicaTimeout(Exception):
    """The replica accepted the request but did not answer within the model timeout."""


@dataclass
class ReplicaResponse:
    status: int
    body: bytes
    content_type: str | None = None
    custom_attributes: str | None = None
    keep_alive: bool = True


@dataclass
class _Parsed:
    """httptools callbacks fill this in."""

    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    done: bool = False
    keep_alive: bool = False
    parser: httptools.HttpResponseParser | None = None

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        if key in _FORWARDED:
            self.headers[key] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        assert self.parser is not None  # the parser only knows this until the message completes
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.done = True


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _exchange(conn: Connection, request: bytes) -> ReplicaResponse:
    reader, writer = conn
    writer.write(request)
    parsed = _Parsed()
    parser = parsed.parser = httptools.HttpResponseParser(parsed)
    first = True
    while not parsed.done:
        data = await reader.read(65536)
        if not data:
            if first:
                raise ConnectionResetError("the replica closed the connection")
            raise ConnectionResetError("the replica closed the connection mid-response")
        first = False
        parser.feed_data(data)
    return ReplicaResponse(
        parser.get_status_code(),
        b"".join(parsed.chunks),
        parsed.headers.get("content-type"),
        parsed.headers.get("x-amzn-sagemaker-custom-attributes"),
        parsed.keep_alive,
    )


class ConnectionPool:
    """Idle keep-alive connections per port, used from one event loop."""

    def __init__(self, per_port: int = 64) -> None:
        self._idle: dict[int, list[Connection]] = {}
        self._per_port = per_port

    def forget(self, port: int) -> None:
        """Close the idle connections to a port whose replica is gone."""
        for _, writer in self._idle.pop(port, []):
            writer.close()

    async def post(self, port: int, path: str, body: bytes, headers: dict[str, str]) -> ReplicaResponse:
        """POST `body`; an idle connection that turns out stale is replaced once by a new one."""
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = head.encode("latin-1") + b"\r\n" + body
        idle = self._idle.setdefault(port, [])
        while True:
            reused = bool(idle)
            try:
                conn = idle.pop() if reused else await asyncio.open_connection("127.0.0.1", port)
            except OSError as exc:
                raise ReplicaUnavailable(str(exc)) from None
            try:
                async with asyncio.timeout(MODEL_TIMEOUT):
                    response = await _exchange(conn, request)
            except TimeoutError:
                conn[1].close()
                raise ReplicaTimeout() from None
            except (OSError, httptools.HttpParserError) as exc:
                conn[1].close()
                if reused:
                    continue  # the replica had closed this idle connection: try the next one
                raise ReplicaUnavailable(str(exc)) from None
            if response.keep_alive and len(idle) < self._per_port:
                idle.append(conn)
            else:
                conn[1].close()
            return response
