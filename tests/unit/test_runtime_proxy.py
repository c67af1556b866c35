"""The runtime's replica client against real asyncio HTTP servers on loopback: keep-alive reuse,
chunked bodies, forwarded headers, a replica that closes idle connections, one that is gone, and
one that never answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from sagelocal.services.runtime import proxy
from sagelocal.services.runtime.proxy import ConnectionPool, ReplicaTimeout, ReplicaUnavailable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return await reader.readexactly(length)


async def _serve(handler: Handler) -> tuple[asyncio.AbstractServer, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_keep_alive_reuse_and_forwarded_headers() -> None:
    connections = 0

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while not reader.at_eof():
            try:
                body = await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            answer = b"echo:" + (body or b"")
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/csv; charset=utf-8\r\n"
                b"X-Amzn-SageMaker-Custom-Attributes: seen\r\nX-Other: dropped\r\n"
                b"Content-Length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer
            )
            await writer.drain()

    async def main() -> None:
        server, port = await _serve(echo)
        pool = ConnectionPool()
        for i in range(20):
            response = await pool.post(port, "/invocations", f"{i}".encode(), {"Content-Type": "text/csv"})
            assert (response.status, response.body) == (200, f"echo:{i}".encode())
        assert response.content_type == "text/csv; charset=utf-8" and response.custom_attributes == "seen"
        assert connections == 1  # one connection served all twenty requests
        pool.forget(port)
        server.close()

    asyncio.run(main())


def test_chunked_response_and_connection_close() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(
            b"HTTP/1.1 415 Unsupported Media Type\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    async def main() -> None:
        server, port = await _serve(chunked)
        response = await ConnectionPool().post(port, "/invocations", b"x", {})
        assert (response.status, response.body, response.keep_alive) == (415, b"hello world", False)
        server.close()

    asyncio.run(main())


def test_stale_idle_connection_is_replaced() -> None:
    async def one_shot(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)  # answers keep-alive, then closes anyway (as a restarted replica does)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    async def main() -> None:
        server, port = await _serve(one_shot)
        pool = ConnectionPool()
        assert (await pool.post(port, "/invocations", b"1", {})).body == b"ok"
        await asyncio.sleep(0.05)
        assert (await pool.post(port, "/invocations", b"2", {})).body == b"ok"  # the idle one was dead
        server.close()

    asyncio.run(main())


def test_unavailable_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async def main() -> None:
        server, port = await _serve(silent)
        monkeypatch.setattr(proxy, "MODEL_TIMEOUT", 0.2)
        with pytest.raises(ReplicaTimeout):
            await ConnectionPool().post(port, "/invocations", b"1", {})
        server.close()
        await server.wait_closed()
        with pytest.raises(ReplicaUnavailable):
            await ConnectionPool().post(port, "/invocations", b"1", {})

    asyncio.run(main())
