"""botocore shapes compiled once into small, slot-based nodes, and the scalar conversions all codecs share.

A `Node` is one shape *as referenced* from its parent: it carries the reference's serialization traits
(locationName, location, flattened, timestampFormat, ...) merged over the shape's own, exactly like the
botocore `Shape` it is compiled from. Nodes are memoized per (shape name, traits), so recursive shapes
compile to a cyclic graph and each distinct reference is compiled once per service.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import math
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

from botocore.model import Shape
from botocore.utils import parse_timestamp


class Node:
    """A compiled shape reference: what the codecs and the validator need, as plain attributes."""

    __slots__ = (
        "document",
        "enum",
        "flattened",
        "json_members",
        "json_value",
        "key",
        "loc_name",
        "location",
        "max",
        "member",
        "members",
        "min",
        "name",
        "pattern",
        "payload",
        "regex",
        "required",
        "result_wrapper",
        "sensitive",
        "streaming",
        "ts_format",
        "type",
        "value",
        "xml_attr",
        "xml_attrs",
        "xml_body",
        "xml_members",
        "xml_names",
        "xml_ns",
    )

    def __init__(self, shape: Shape) -> None:
        ser = shape.serialization
        meta = shape.metadata
        self.name: str = shape.name
        self.type: str = shape.type_name
        self.loc_name: str | None = ser.get("name")
        self.location: str | None = ser.get("location")
        self.flattened: bool = bool(ser.get("flattened"))
        self.ts_format: str | None = (ser.get("timestampFormat") or "").lower() or None
        self.streaming: bool = bool(ser.get("streaming"))
        self.json_value: bool = bool(ser.get("jsonvalue"))
        self.payload: str | None = ser.get("payload")
        self.result_wrapper: str | None = ser.get("resultWrapper")
        self.xml_attr: bool = bool(ser.get("xmlAttribute"))
        ns = ser.get("xmlNamespace")
        if isinstance(ns, dict):
            prefix = ns.get("prefix")
            self.xml_ns: tuple[str, str] | None = (f"xmlns:{prefix}" if prefix else "xmlns", ns["uri"])
        elif isinstance(ns, str):
            self.xml_ns = ("xmlns", ns)
        else:
            self.xml_ns = None
        self.required: tuple[str, ...] = tuple(meta.get("required", ()))
        self.min: int | float | None = meta.get("min")
        self.max: int | float | None = meta.get("max")
        self.pattern: str | None = meta.get("pattern")
        self.enum: tuple[str, ...] = tuple(meta.get("enum", ()))
        self.sensitive: bool = bool(meta.get("sensitive"))
        self.document: bool = bool(meta.get("document"))
        self.regex: Any = None  # compiled lazily by validation (False when untranslatable)
        self.members: dict[str, Node] = {}
        self.xml_names: dict[str, str] = {}  # member name -> XML element name (structures)
        self.xml_members: dict[str, tuple[str, Node]] = {}  # XML element name -> (member name, node)
        self.xml_body: list[tuple[str, Node, str]] = []  # body members: (name, node, element name)
        self.xml_attrs: list[tuple[str, str]] = []  # xmlAttribute members: (name, attribute name)
        self.json_members: dict[str, tuple[str, Node]] = {}  # JSON key -> (member name, node)
        self.member: Node | None = None
        self.key: Node | None = None
        self.value: Node | None = None

    def __repr__(self) -> str:
        return f"Node({self.name}:{self.type})"


def compile_shape(shape: Shape | None, memo: dict[tuple[Any, ...], Node]) -> Node | None:
    """The node for a botocore shape reference, compiling its children once (cycles allowed)."""
    if shape is None:
        return None
    key = (shape.name, tuple(sorted((k, repr(v)) for k, v in shape.serialization.items())))
    node = memo.get(key)
    if node is not None:
        return node
    node = Node(shape)
    memo[key] = node
    if node.type == "structure":
        for name, member in shape.members.items():
            child = compile_shape(member, memo)
            assert child is not None
            node.members[name] = child
            xml_name = xml_member_name(name, child)
            node.xml_names[name] = xml_name
            if child.location is None:
                node.xml_members[xml_name] = (name, child)
                node.json_members[child.loc_name or name] = (name, child)
                if child.xml_attr:
                    node.xml_attrs.append((name, child.loc_name or name))
                else:
                    node.xml_body.append((name, child, xml_name))
    elif node.type == "list":
        node.member = compile_shape(shape.member, memo)
    elif node.type == "map":
        node.key = compile_shape(shape.key, memo)
        node.value = compile_shape(shape.value, memo)
    return node


def xml_member_name(member_name: str, node: Node) -> str:
    """The element name of a structure member (a flattened list takes its member's locationName)."""
    if node.type == "list" and node.flattened and node.member is not None and node.member.loc_name:
        return node.member.loc_name
    return node.loc_name or member_name


# ---- timestamps ---------------------------------------------------------------------------------


def to_datetime(value: Any) -> datetime:
    """An aware UTC datetime from a datetime (naive = UTC), epoch seconds, or a timestamp string."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        return parse_time_text(value)
    raise ValueError(f"not a timestamp: {value!r}")


def parse_time_text(text: str) -> datetime:
    """Parse ISO 8601, RFC 822/1123 or epoch-seconds text into an aware UTC datetime."""
    text = text.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            dt = parse_timestamp(text)  # raises ValueError when nothing fits
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso8601(value: Any, millis: bool = False) -> str:
    """`2026-11-27T12:00:00Z` (or with `.000` milliseconds, as S3 writes them)."""
    dt = to_datetime(value)
    if millis:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc822(value: Any) -> str:
    """`Fri, 27 Nov 2026 12:00:00 GMT`."""
    return formatdate(calendar.timegm(to_datetime(value).utctimetuple()), usegmt=True)


def epoch(value: Any) -> int | float:
    """Epoch seconds, with millisecond precision when there is a fraction."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    dt = to_datetime(value)
    seconds = calendar.timegm(dt.utctimetuple())
    ms = dt.microsecond // 1000
    return seconds + ms / 1000 if ms else seconds


def format_timestamp(value: Any, fmt: str, millis: bool = False) -> str | int | float:
    """A timestamp in one of the model's formats: iso8601, rfc822 or unixtimestamp."""
    if fmt == "rfc822":
        return rfc822(value)
    if fmt == "unixtimestamp":
        return epoch(value)
    return iso8601(value, millis)


# ---- scalars from text (query strings, headers, XML text) ---------------------------------------


def scalar_from_text(node: Node, text: str) -> Any:
    """Convert wire text to the node's Python type; ValueError when it does not fit."""
    t = node.type
    if t == "string" or t == "character":
        return text
    if t == "integer" or t == "long":
        return int(text.strip())
    if t == "boolean":
        low = text.strip().lower()
        if low == "true":
            return True
        if low == "false":
            return False
        raise ValueError(f"not a boolean: {text!r}")
    if t == "float" or t == "double":
        return float(text.strip())  # accepts NaN / Infinity / -Infinity
    if t == "timestamp":
        return parse_time_text(text)
    if t == "blob":
        try:
            return base64.b64decode(text.strip(), validate=True)
        except binascii.Error as exc:
            raise ValueError(str(exc)) from exc
    return text


def scalar_to_text(node: Node, value: Any, ts_default: str = "iso8601", millis: bool = False) -> str:
    """Render a scalar as wire text (XML text, header value, query value)."""
    t = node.type
    if t == "boolean":
        return "true" if value else "false"
    if t == "timestamp":
        return str(format_timestamp(value, node.ts_format or ts_default, millis))
    if t == "blob":
        if isinstance(value, str):
            value = value.encode("utf-8")
        return base64.b64encode(value).decode("ascii")
    if t == "float" or t == "double":
        return float_text(value)
    return str(value)


def float_text(value: float | int) -> str:
    """Floats as AWS writes them: Infinity, -Infinity and NaN spelled out."""
    f = float(value)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return str(value)
