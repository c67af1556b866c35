"""Asking a child server on a loopback port whether it serves: one GET, its status and body."""

from __future__ import annotations

import http.client


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, str]:
    """GET `path` on 127.0.0.1:`port`: (status, body); (0, reason) when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError as exc:
        return 0, str(exc)
    finally:
        conn.close()
