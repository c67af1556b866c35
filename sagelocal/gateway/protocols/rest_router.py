"""Routing of rest-json / rest-xml requests to operations by method, `requestUri` template and query.

Every operation's `requestUri` (`/{Bucket}/{Key+}?uploads`) compiles to a path regex plus literal
query discriminators. When several operations match, the most specific wins: more literal query
keys, then more literal path characters, then operations whose required querystring/header members
are present (more of them first: UploadPartCopy over UploadPart over PutObject), then
non-deprecated ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from botocore.model import OperationModel, ServiceModel

from sagelocal.gateway.http import HttpRequest

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class Route:
    """One operation's compiled request URI."""

    operation: str
    method: str
    regex: re.Pattern[str]
    labels: tuple[tuple[str, str, bool], ...]  # (regex group, label name, greedy)
    query: tuple[tuple[str, str | None], ...]  # literal query keys, with a literal value or None
    literal_chars: int
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    deprecated: bool

    def score(self, query: dict[str, str], request: HttpRequest) -> tuple[int, int, int, int, int]:
        """How specifically this route matches a request (higher wins)."""
        present = sum(1 for q in self.required_query if q in query)
        present += sum(1 for h in self.required_headers if h in request.headers)
        complete = int(present == len(self.required_query) + len(self.required_headers))
        return (len(self.query), self.literal_chars, complete, present, int(not self.deprecated))


def compile_route(operation: OperationModel) -> Route:
    """Compile an operation's `http.requestUri` into a Route."""
    uri = operation.http.get("requestUri", "/")
    path, _, query = uri.partition("?")
    pattern, labels, pos, literal = ["^"], [], 0, 0
    for i, m in enumerate(_LABEL.finditer(path)):
        text = path[pos : m.start()]
        pattern.append(re.escape(text))
        literal += len(text)
        name = m.group(1)
        greedy = name.endswith("+")
        group = f"g{i}"
        pattern.append(f"(?P<{group}>.+)" if greedy else f"(?P<{group}>[^/]+)")
        labels.append((group, name.rstrip("+"), greedy))
        pos = m.end()
    tail = path[pos:]
    pattern.append(re.escape(tail))
    literal += len(tail)
    if not (labels and labels[-1][2] and not tail) and path != "/":
        pattern.append("/?")  # tolerate a trailing slash (`/bucket/` is the bucket)
    pattern.append("$")
    literal_query = tuple(
        (k, v if "=" in part else None)
        for part in query.split("&")
        if part
        for k, _, v in [part.partition("=")]
    )
    req_query, req_headers = [], []
    shape = operation.input_shape
    if shape is not None:
        for name in shape.required_members:
            ser = shape.members[name].serialization
            if ser.get("location") == "querystring":
                req_query.append(ser.get("name", name))
            elif ser.get("location") == "header":
                req_headers.append(ser.get("name", name).lower())
    return Route(
        operation=operation.name,
        method=operation.http.get("method", "POST").upper(),
        regex=re.compile("".join(pattern)),
        labels=tuple(labels),
        query=literal_query,
        literal_chars=literal,
        required_query=tuple(req_query),
        required_headers=tuple(req_headers),
        deprecated=bool(operation.deprecated),
    )


class Router:
    """Finds the operation a REST request calls."""

    def __init__(self, service_model: ServiceModel) -> None:
        self._by_method: dict[str, list[Route]] = {}
        for name in service_model.operation_names:
            route = compile_route(service_model.operation_model(name))
            self._by_method.setdefault(route.method, []).append(route)

    def match(self, request: HttpRequest) -> tuple[str, dict[str, str]] | None:
        """(operation name, percent-decoded path labels), or None when no route fits."""
        routes = self._by_method.get(request.method.upper())
        if not routes:
            return None
        path = request.path or "/"
        query = dict(parse_qsl(request.query_string, keep_blank_values=True)) if request.query_string else {}
        best: tuple[tuple[int, int, int, int, int], Route, re.Match[str]] | None = None
        for route in routes:
            if route.query and not _query_matches(route, query):
                continue
            m = route.regex.match(path)
            if m is None:
                continue
            score = route.score(query, request)
            if best is None or score > best[0]:
                best = (score, route, m)
        if best is None:
            return None
        _, route, m = best
        return route.operation, {name: unquote(m.group(group)) for group, name, _ in route.labels}

    def path_matches_any(self, request: HttpRequest) -> bool:
        """Whether some operation of another method serves this path (-> 405 rather than 404)."""
        path = request.path or "/"
        return any(r.regex.match(path) for routes in self._by_method.values() for r in routes)


def _query_matches(route: Route, query: dict[str, str]) -> bool:
    for key, value in route.query:
        if key not in query or (value is not None and query[key] != value):
            return False
    return True
