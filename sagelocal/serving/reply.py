"""A route's answer, and the fixed bodies the container's Flask/Werkzeug stack produces."""

from __future__ import annotations

from dataclasses import dataclass

HTML = "text/html; charset=utf-8"
JSON = "application/json"
_CHARSET_TYPES = ("application/ecmascript", "application/javascript", "application/sql", "application/xml")


@dataclass(frozen=True, slots=True)
class Reply:
    """Status, body and Content-Type of one response (plus any extra headers)."""

    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()


def text(status: int, message: str) -> Reply:
    """A plain-string body, as ``flask.Response(response=message, status=...)`` sends it (text/html)."""
    return Reply(status, message.encode("utf-8"), HTML)


def mimetype(value: str) -> str:
    """Flask's Content-Type for ``mimetype=value``: ``; charset=utf-8`` added to text types."""
    if "charset=" not in value and (value.startswith("text/") or value in _CHARSET_TYPES):
        return f"{value}; charset=utf-8"
    return value


_WERKZEUG = {
    405: ("Method Not Allowed", "The method is not allowed for the requested URL."),
    413: ("Request Entity Too Large", "The data value transmitted exceeds the capacity limit."),
    500: (
        "Internal Server Error",
        "The server encountered an internal error and was unable to complete your request. Either the "
        "server is overloaded or there is an error in the application.",
    ),
}


def werkzeug_error(status: int, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    """Werkzeug's HTML page for an HTTP error (413 too large, 405 wrong method, 500 unhandled)."""
    name, description = _WERKZEUG[status]
    page = (
        f"<!doctype html>\n<html lang=en>\n<title>{status} {name}</title>\n"
        f"<h1>{name}</h1>\n<p>{description}</p>\n"
    )
    return Reply(status, page.encode(), HTML, headers)


NOT_FOUND = Reply(404, b"{}", JSON)
NO_CONTENT = Reply(204, b"", HTML)
EMPTY_OK = Reply(200, b"", HTML)
