"""The HTTP request and response as the gateway's codecs see them, independent of Starlette."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


class Headers(Mapping[str, str]):
    """Case-insensitive, order-keeping request headers. A repeated header joins with ','."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = list(items)
        self._map: dict[str, str] = {}
        for k, v in self._items:
            key = k.lower()
            self._map[key] = f"{self._map[key]},{v}" if key in self._map else v

    def __getitem__(self, key: str) -> str:
        return self._map[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def raw(self) -> list[tuple[str, str]]:
        """The headers as received (original case, repeats kept)."""
        return list(self._items)


@dataclass
class HttpRequest:
    """One request: `path` is the raw (still percent-encoded) path, `query_string` the raw query.

    `body` is the whole body, unless `stream` is set: then the body has not been read yet (an
    S3 upload the gateway streams to disk) and `load_body()` reads it when it is needed whole.
    After parsing, a streamed upload's `body` is the spooled file object (see gateway/upload.py).
    """

    method: str
    path: str
    query_string: str = ""
    headers: Headers = field(default_factory=Headers)
    body: Any = b""
    client_ip: str | None = None
    scheme: str = "http"
    stream: AsyncIterator[bytes] | None = None

    async def load_body(self) -> bytes:
        """Read a not-yet-read body whole (for requests whose body is small by nature)."""
        if self.stream is not None:
            chunks = [chunk async for chunk in self.stream]
            self.stream = None
            self.body = b"".join(chunks)
        return self.body

    @property
    def query(self) -> list[tuple[str, str]]:
        """Decoded query parameters, in order, blanks kept (`?uploads` -> [("uploads", "")])."""
        return parse_qsl(self.query_string, keep_blank_values=True)

    def query_dict(self) -> dict[str, str]:
        """Decoded query parameters; the first value of a repeated name wins."""
        out: dict[str, str] = {}
        for k, v in self.query:
            out.setdefault(k, v)
        return out

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


Body = bytes | Iterable[bytes] | AsyncIterable[bytes]


@dataclass
class HttpResponse:
    """A response ready to send. `body` may be bytes or an (async) iterable of chunks."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Body = b""
