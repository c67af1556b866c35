"""Server-side validation of parsed parameters against the input shape, worded like AWS.

botocore checks only required members, types and `min` on the client, so the server checks the rest:
max length/value, min, pattern (full match), enum and required. Each failure reads
`Value 'x_y' at 'notebookInstanceName' failed to satisfy constraint: Member must satisfy regular
expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*`; `validation_error` joins them into
`N validation error(s) detected: e1; e2` with the service's error code.

Paths are camelCase member names joined by '.', list elements `tags.1.member.key` (1-based). Values
print as Java would: `'text'`, `'5'`, `'[a, b]'`, `'{k=v}'`, `null` when missing, and no value at all
for sensitive members (`Value at 'x' ...`). A map whose keys or values break their constraints is
reported once, listing every constraint of the key or value shape (`Map value must satisfy
constraint: [Member must have length less than or equal to 256, ...]`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.model import OperationModel

from sagelocal.gateway.protocols._sagemaker_patterns import ANCHORED
from sagelocal.gateway.protocols.patterns import compile_pattern
from sagelocal.gateway.protocols.shapes import Node, compile_shape
from sagelocal.services.base import ServiceError

ERROR_CODES = {
    "sagemaker": "ValidationException",
    "iam": "ValidationError",
    "sts": "ValidationError",
    "logs": "InvalidParameterException",
    "sagemaker-runtime": "ValidationError",  # the runtime models ValidationError, not ...Exception
}
# Git repository URLs may also name a repository on this machine (no internet is assumed here):
# a `file://` URL or an absolute path, which `git clone` takes as AWS's https URLs.
_LOCAL_GIT_SHAPES = frozenset({"CodeRepositoryNameOrUrl", "GitConfigUrl"})
_MEMOS: dict[str, dict[tuple[Any, ...], Node]] = {}
_INPUTS: dict[tuple[str, str], Node | None] = {}
_CAMEL: dict[str, str] = {}
_ORDER: dict[int, dict[str, int]] = {}  # structure node id -> member name -> model position


def validate(operation: OperationModel, params: dict[str, Any], required_only: bool = False) -> list[str]:
    """AWS-worded constraint failures of `params` (empty when valid), in model member order.

    `required_only` checks only `Member must not be null` (what the gateway applies to S3, whose
    errors are not in this format).
    """
    node = _input_node(operation)
    if node is None:
        return []
    checker = _Checker(operation.service_model.service_name, required_only)
    checker.structure(node, params, "")
    return checker.problems


def missing_required(operation: OperationModel, params: dict[str, Any]) -> list[str]:
    """The model names of required members that are missing (`Bucket`, `Delete.Objects.1.Key`)."""
    node = _input_node(operation)
    out: list[str] = []
    if node is not None:
        _missing(node, params, "", out)
    return out


def validation_error(service_name: str, problems: list[str]) -> ServiceError:
    """The service's validation error for the given problems (HTTP 400)."""
    n = len(problems)
    message = f"{n} validation error{'' if n == 1 else 's'} detected: " + "; ".join(problems)
    return ServiceError(ERROR_CODES.get(service_name, "ValidationException"), message, 400)


def _input_node(operation: OperationModel) -> Node | None:
    service = operation.service_model.service_name
    key = (service, operation.name)
    try:
        return _INPUTS[key]
    except KeyError:
        memo = _MEMOS.setdefault(service, {})
        node = _INPUTS[key] = compile_shape(operation.input_shape, memo)
        return node


def _member_order(node: Node) -> dict[str, int]:
    key = id(node)
    try:
        return _ORDER[key]
    except KeyError:
        order = _ORDER[key] = {name: i for i, name in enumerate(node.members)}
        return order


def _camel(name: str) -> str:
    try:
        return _CAMEL[name]
    except KeyError:
        camel = _CAMEL[name] = name[:1].lower() + name[1:]
        return camel


def _missing(node: Node, value: Any, path: str, out: list[str]) -> None:
    if node.type == "structure" and isinstance(value, dict):
        for name, child in node.members.items():
            sub = f"{path}.{name}" if path else name
            item = value.get(name)
            if item is None:
                if name in node.required:
                    out.append(sub)
            else:
                _missing(child, item, sub, out)
    elif node.type == "list" and isinstance(value, list) and node.member is not None:
        for i, item in enumerate(value, 1):
            _missing(node.member, item, f"{path}.{i}", out)


class _Checker:
    """Walks one parameter tree and collects the failures."""

    def __init__(self, service: str, required_only: bool) -> None:
        self.service = service
        self.required_only = required_only
        self.problems: list[str] = []

    def structure(self, node: Node, value: dict[str, Any], path: str) -> None:
        if not isinstance(value, dict) or node.document:
            return
        order = _member_order(node)
        names = [name for name in value if name in order]
        names.extend(name for name in node.required if value.get(name) is None and name not in names)
        names.sort(key=order.__getitem__)
        members = node.members
        for name in names:
            item = value.get(name)
            sub = f"{path}.{_camel(name)}" if path else _camel(name)
            if item is None:
                if name in node.required:
                    self.problems.append(
                        f"Value null at '{sub}' failed to satisfy constraint: Member must not be null"
                    )
                continue
            self.value(members[name], item, sub)

    def value(self, node: Node, value: Any, path: str) -> None:
        t = node.type
        if t == "structure":
            self.structure(node, value, path)
            return
        if not self.required_only:
            for constraint in self.failures(node, value):
                self.problems.append(
                    f"{_prefix(node, value)} at '{path}' failed to satisfy constraint: {constraint}"
                )
        if t == "list" and isinstance(value, list) and node.member is not None:
            for i, item in enumerate(value, 1):
                if item is not None:
                    self.value(node.member, item, f"{path}.{i}.member")
        elif t == "map" and isinstance(value, dict):
            self.map_entries(node, value, path)

    def map_entries(self, node: Node, value: dict[Any, Any], path: str) -> None:
        knode, vnode = node.key, node.value
        if knode is None or vnode is None:
            return
        if not self.required_only:
            for side, label, items in (
                (knode, "Map keys", value.keys()),
                (vnode, "Map value", value.values()),
            ):
                if side.type in ("structure", "list", "map"):
                    continue
                if any(item is not None and self.failures(side, item) for item in items):
                    listed = ", ".join(self.constraints(side))
                    self.problems.append(
                        f"{_prefix(node, value)} at '{path}' failed to satisfy constraint: "
                        f"{label} must satisfy constraint: [{listed}]"
                    )
        if vnode.type in ("structure", "list", "map"):
            for key, item in value.items():
                if item is not None:
                    self.value(vnode, item, f"{path}.{key}")

    def failures(self, node: Node, value: Any) -> list[str]:
        """The constraint texts the value breaks."""
        out = []
        size = _size(node, value)
        if size is not None:
            kind = "length" if node.type in ("string", "blob", "list", "map", "character") else "value"
            if node.max is not None and size > node.max:
                out.append(f"Member must have {kind} less than or equal to {_num(node.max)}")
            if node.min is not None and size < node.min:
                out.append(f"Member must have {kind} greater than or equal to {_num(node.min)}")
        if isinstance(value, str):
            if node.pattern is not None:
                regex = compile_pattern(node.pattern)
                local_git = node.name in _LOCAL_GIT_SHAPES and value.startswith(("file:///", "/"))
                if regex is not None and regex.fullmatch(value) is None and not local_git:
                    out.append(f"Member must satisfy regular expression pattern: {self.display(node)}")
            if node.enum and value not in node.enum:
                out.append(f"Member must satisfy enum value set: [{', '.join(node.enum)}]")
        return out

    def constraints(self, node: Node) -> list[str]:
        """Every constraint text of a scalar shape (for map key/value reports)."""
        kind = "length" if node.type in ("string", "blob", "character") else "value"
        out = []
        if node.max is not None:
            out.append(f"Member must have {kind} less than or equal to {_num(node.max)}")
        if node.min is not None:
            out.append(f"Member must have {kind} greater than or equal to {_num(node.min)}")
        if node.pattern is not None:
            out.append(f"Member must satisfy regular expression pattern: {self.display(node)}")
        if node.enum:
            out.append(f"Member must satisfy enum value set: [{', '.join(node.enum)}]")
        return out

    def display(self, node: Node) -> str:
        """The pattern as the service prints it."""
        if self.service == "sagemaker":
            return ANCHORED.get(node.name, node.pattern or "")
        return node.pattern or ""


def _size(node: Node, value: Any) -> int | float | None:
    t = node.type
    if t == "string" or t == "character":
        if not isinstance(value, str):
            return None
        if value.isascii():
            return len(value)
        return len(value) + sum(1 for ch in value if ord(ch) > 0xFFFF)  # Java counts UTF-16 units
    if t in ("integer", "long", "float", "double"):
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if t in ("list", "map") or (t == "blob" and isinstance(value, bytes | bytearray)):
        return len(value)
    return None


def _prefix(node: Node, value: Any) -> str:
    return "Value" if node.sensitive else f"Value '{_java(value)}'"


def _num(limit: int | float) -> str:
    return _java(limit)


def _java(value: Any) -> str:
    """A value as Java's toString renders it inside AWS's messages."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, bytes | bytearray):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_java(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_java(k)}={_java(v)}" for k, v in value.items()) + "}"
    return "null" if value is None else str(value)


def _java_double(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        return repr(x) if not x.is_integer() else f"{x:.1f}"
    sign, digits, exp = Decimal(repr(x)).normalize().as_tuple()
    text = "".join(map(str, digits))
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{len(digits) - 1 + int(exp)}"
