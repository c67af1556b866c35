"""The replica's HTTP routes as a plain ASGI app (served by uvicorn with httptools and uvloop).

``GET /ping``, ``GET /execution-parameters`` and ``POST /invocations`` go to the mode's handler; a body over
``MAX_CONTENT_LENGTH`` is refused with Werkzeug's 413 page before it is read; a known path with another method
gets Werkzeug's 405; any other path 404 ``{}`` (the container's nginx).  Predictions run inline: a booster
predicts with one thread and the event loop has nothing else to do meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from .reply import NOT_FOUND, Reply, werkzeug_error
from .watchdog import Watchdog

log = logging.getLogger("sagelocal.serving")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_GET_ONLY = (("Allow", "GET, HEAD, OPTIONS"),)
_POST_ONLY = (("Allow", "OPTIONS, POST"),)


class Handler(Protocol):
    """A serving mode: the algorithm container or the user's inference script."""

    def ping(self) -> Reply: ...

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> Reply: ...


class ServingApp:
    """ASGI entry point of one replica."""

    def __init__(
        self,
        handler: Handler,
        max_content_length: int,
        execution_parameters: bytes | None = None,
        watchdog: Watchdog | None = None,
    ) -> None:
        self.handler = handler
        self.max_content_length = max_content_length
        self.execution_parameters = execution_parameters
        self.watchdog = watchdog

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/invocations":
            if method == "POST":
                reply = await self._invocations(scope, receive)
                if reply is None:  # the client went away
                    return
            else:
                reply = werkzeug_error(405, _POST_ONLY)
        elif path == "/ping":
            reply = self.handler.ping() if method in ("GET", "HEAD") else werkzeug_error(405, _GET_ONLY)
        elif path == "/execution-parameters" and self.execution_parameters is not None:
            if method in ("GET", "HEAD"):
                reply = Reply(200, self.execution_parameters, "application/json")
            else:
                reply = werkzeug_error(405, _GET_ONLY)
        else:
            reply = NOT_FOUND
        await _send(send, reply)

    async def _invocations(self, scope: Scope, receive: Receive) -> Reply | None:
        content_type = accept = None
        length = -1
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"content-length":
                length = int(value) if value.isdigit() else -1
        limit = self.max_content_length
        if length > limit:
            return werkzeug_error(413)
        message = await receive()
        body = message.get("body", b"")
        if message.get("more_body"):
            chunks = [body]
            size = len(body)
            while message.get("more_body"):
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return werkzeug_error(413)
                chunks.append(chunk)
            body = b"".join(chunks)
        elif message["type"] == "http.disconnect":
            return None
        if len(body) > limit:
            return werkzeug_error(413)
        watchdog = self.watchdog
        if watchdog is not None:
            watchdog.busy_since = time.monotonic()
        try:
            return self.handler.invoke(body, content_type, accept)
        except Exception:
            log.exception("Exception on /invocations [POST]")
            return werkzeug_error(500)
        finally:
            if watchdog is not None:
                watchdog.busy_since = 0.0


async def _send(send: Send, reply: Reply) -> None:
    """Send ``reply`` (uvicorn drops the body of a HEAD response itself)."""
    headers = [(b"content-type", reply.content_type.encode("latin-1"))]
    if reply.status != 204:  # a 204 carries no Content-Length (RFC 9110)
        headers.append((b"content-length", str(len(reply.body)).encode()))
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})
