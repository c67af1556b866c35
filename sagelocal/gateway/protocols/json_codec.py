"""The `json` protocol (1.0 and 1.1): `POST /`, `X-Amz-Target: <targetPrefix>.<Operation>`, JSON bodies.

Also home of the JSON value conversions the rest-json codec reuses (`from_json`, `to_json`).
Type errors in a request body answer like AWS's Coral JSON reader (`SerializationException` with
messages such as `class java.lang.String can not be converted to an Integer`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from botocore.model import OperationModel, ServiceModel

from sagelocal.gateway.http import HttpRequest, HttpResponse
from sagelocal.gateway.protocols.common import ModelCodec, error_fields, message_key
from sagelocal.gateway.protocols.shapes import Node, epoch, format_timestamp, to_datetime
from sagelocal.services.base import ServiceError

_JAVA_CLASS = {bool: "java.lang.Boolean", str: "java.lang.String"}
_NUMBER_CLASS = "com.amazon.coral.value.json.numbers.TruncatingBigNumber"
_JAVA_TYPE = {"string": "an String", "integer": "an Integer", "long": "an Long", "boolean": "an Boolean"}
_JAVA_TYPE |= {"float": "an Float", "double": "an Double", "timestamp": "an Date", "blob": "a Blob"}
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class JsonMismatch(ValueError):
    """A JSON value that does not fit its shape; the message is AWS's wording."""


def _mismatch(node: Node, value: Any) -> JsonMismatch:
    if isinstance(value, list):
        return JsonMismatch("Start of list found where not expected")
    if isinstance(value, dict):
        return JsonMismatch("Start of structure or map found where not expected.")
    if node.type == "list":
        return JsonMismatch("Expected list or null")
    if node.type == "map":
        return JsonMismatch("Expected map or null")
    if node.type == "structure":
        return JsonMismatch("Expected null")
    if node.type == "boolean" and isinstance(value, str):
        return JsonMismatch(f"'{value}' can not be converted to an Boolean")
    cls = _JAVA_CLASS.get(type(value), _NUMBER_CLASS)
    return JsonMismatch(f"class {cls} can not be converted to {_JAVA_TYPE.get(node.type, 'an Object')}")


def from_json(node: Node, value: Any) -> Any:
    """A decoded JSON value converted to the node's Python types (raises JsonMismatch)."""
    t = node.type
    if t == "structure":
        if node.document:
            return value
        if not isinstance(value, dict):
            raise _mismatch(node, value)
        out: dict[str, Any] = {}
        wire = node.json_members
        for key, item in value.items():
            entry = wire.get(key)
            if entry is not None and item is not None:
                out[entry[0]] = from_json(entry[1], item)
        return out
    if t == "string" or t == "character":
        if isinstance(value, str):
            return value
        raise _mismatch(node, value)
    if t == "list":
        if not isinstance(value, list):
            raise _mismatch(node, value)
        member = node.member
        assert member is not None
        return [from_json(member, item) for item in value if item is not None]
    if t == "map":
        if not isinstance(value, dict):
            raise _mismatch(node, value)
        vnode = node.value
        assert vnode is not None
        return {k: from_json(vnode, v) for k, v in value.items() if v is not None}
    if t == "integer" or t == "long":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        raise _mismatch(node, value)
    if t == "boolean":
        if isinstance(value, bool):
            return value
        raise _mismatch(node, value)
    if t == "float" or t == "double":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
        raise _mismatch(node, value)
    if t == "timestamp":
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                return to_datetime(value)
            except (ValueError, OverflowError, OSError):
                pass
        raise _mismatch(node, value)
    if t == "blob":
        if not isinstance(value, str):
            raise _mismatch(node, value)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise JsonMismatch(f"'{value}' can not be converted to a Blob: {exc}") from exc
    return value


def to_json(node: Node, value: Any) -> Any:
    """A Python value rendered as the JSON the node describes (None members are dropped)."""
    t = node.type
    if t == "structure":
        if node.document:
            return value
        out: dict[str, Any] = {}
        members = node.members
        for name, item in value.items():
            if item is None:
                continue
            child = members.get(name)
            if child is not None and child.location is None:
                out[child.loc_name or name] = to_json(child, item)
        return out
    if t == "string" or t == "character":
        return value if isinstance(value, str) else str(value)
    if t == "list":
        member = node.member
        assert member is not None
        return [to_json(member, item) for item in value if item is not None]
    if t == "map":
        vnode = node.value
        assert vnode is not None
        return {str(k): to_json(vnode, v) for k, v in value.items() if v is not None}
    if t == "timestamp":
        fmt = node.ts_format
        return epoch(value) if fmt is None else format_timestamp(value, fmt)
    if t == "integer" or t == "long":
        return int(value)
    if t == "boolean":
        return bool(value)
    if t == "float" or t == "double":
        f = float(value)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return value
    if t == "blob":
        if isinstance(value, str):
            value = value.encode("utf-8")
        return base64.b64encode(value).decode("ascii")
    return value


def load_json_body(body: Any) -> Any:
    """The decoded JSON of a request body (empty -> {}); SerializationException when malformed."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise ServiceError("SerializationException", "", 400)
    if not bytes(body).strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError("SerializationException", "", 400) from exc


def parse_json_structure(node: Node | None, data: Any) -> dict[str, Any]:
    """The members of a top-level JSON object; SerializationException on a type mismatch."""
    if node is None:
        return {}
    try:
        return from_json(node, data)
    except JsonMismatch as exc:
        raise ServiceError("SerializationException", str(exc), 400) from exc


def dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_error_body(codec: ModelCodec, error: ServiceError, with_type: bool) -> dict[str, Any]:
    """The JSON body of an error: `__type` (json protocol), the message, and modeled fields."""
    node = codec.error_node(error.code)
    body: dict[str, Any] = {"__type": error.code} if with_type else {}
    if error.message:
        body[message_key(node)] = error.message
    for name, child, value in error_fields(node, error.fields):
        if child.location is None:
            body[child.loc_name or name] = to_json(child, value)
    return body


class JsonCodec(ModelCodec):
    """The codec for `json` protocol services (sagemaker, logs)."""

    def __init__(self, service_model: ServiceModel) -> None:
        super().__init__(service_model)
        metadata = service_model.metadata
        self._target_prefix = metadata.get("targetPrefix", "")
        self._content_type = f"application/x-amz-json-{metadata.get('jsonVersion', '1.0')}"

    def find_operation(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        prefix, _, name = request.headers.get("x-amz-target", "").rpartition(".")
        operation = self.operation(name) if prefix == self._target_prefix else None
        if operation is None:
            raise ServiceError("UnknownOperationException", "", 400)
        return operation, {}

    def parse(
        self, operation: OperationModel, request: HttpRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        data = load_json_body(request.body)
        node = self.input_node(operation)
        if node is None:
            return {}
        if not isinstance(data, dict):
            raise ServiceError("SerializationException", str(_mismatch(node, data)), 400)
        return parse_json_structure(node, data)

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str) -> HttpResponse:
        node = self.output_node(operation)
        body = to_json(node, result or {}) if node is not None else {}
        headers = {"Content-Type": self._content_type, "x-amzn-RequestId": request_id}
        return HttpResponse(200, headers, dump_json(body))

    def serialize_error(
        self,
        error: ServiceError,
        operation: OperationModel | None,
        request_id: str,
        request: HttpRequest | None = None,
    ) -> HttpResponse:
        headers = {
            "Content-Type": self._content_type,
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": error.code,
            **error.headers,
        }
        return HttpResponse(error.status, headers, dump_json(json_error_body(self, error, True)))
