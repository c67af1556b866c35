"""The `rest-json` and `rest-xml` protocols (sagemaker-runtime, s3).

Inputs come from the URI labels, the query string, headers (`x-amz-meta-*` prefix maps too) and the
body: a streaming blob payload is passed through as `request.body` unread, a structure payload is
parsed from the XML/JSON body, and (rest-json) the remaining members come from a JSON object body.
Outputs go to the status code, headers and body the same way. Errors are S3's `<Error>` document
(rest-xml, no body for HEAD) or `{"message": ...}` with `x-amzn-ErrorType` (rest-json).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from botocore.model import OperationModel, ServiceModel

from sagelocal.gateway.http import HttpRequest, HttpResponse
from sagelocal.gateway.protocols.common import ModelCodec
from sagelocal.gateway.protocols.json_codec import (
    dump_json,
    json_error_body,
    load_json_body,
    parse_json_structure,
    to_json,
)
from sagelocal.gateway.protocols.rest_router import Router
from sagelocal.gateway.protocols.shapes import Node, float_text, format_timestamp, scalar_from_text
from sagelocal.gateway.protocols.xml_util import XmlWriter, escape, escape_attr, from_xml, parse_xml
from sagelocal.services.base import HTTP_STATUS, ServiceError

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
# S3 names the root element of outputs without a payload member; the model does not carry these.
_S3_ROOTS = {
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycle": "LifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketTagging": "Tagging",
    "GetObjectTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListParts": "ListPartsResult",
}


def has_streaming_input(operation: OperationModel) -> bool:
    """Whether the request body is a streaming blob payload (S3 PutObject/UploadPart): the gateway may
    hand it to `parse` as an unread (async) iterable. Every other body must be read into bytes first."""
    shape = operation.input_shape
    payload = shape.serialization.get("payload") if shape is not None else None
    if payload is None:
        return False
    member = shape.members[payload]
    return member.type_name == "blob" and bool(member.serialization.get("streaming"))


class _Plan:
    """The members of one input or output shape, split by where they travel."""

    __slots__ = (
        "body",
        "header_index",
        "header_maps",
        "headers",
        "payload",
        "query",
        "query_map",
        "status",
        "uri",
    )

    def __init__(self, node: Node) -> None:
        self.uri: list[tuple[str, Node, str]] = []
        self.query: list[tuple[str, Node, str]] = []
        self.query_map: tuple[str, Node] | None = None
        self.headers: list[tuple[str, Node, str]] = []
        self.header_maps: list[tuple[str, Node, str]] = []
        self.status: str | None = None
        self.body = False
        for name, child in node.members.items():
            wire = child.loc_name or name
            loc = child.location
            if loc == "uri":
                self.uri.append((name, child, wire))
            elif loc == "querystring":
                if child.type == "map":
                    self.query_map = (name, child)
                else:
                    self.query.append((name, child, wire))
            elif loc == "header":
                self.headers.append((name, child, wire))
            elif loc == "headers":
                self.header_maps.append((name, child, wire.lower()))
            elif loc == "statusCode":
                self.status = name
            elif name != node.payload:
                self.body = True
        self.header_index = {wire.lower(): (name, child, wire) for name, child, wire in self.headers}
        self.payload: tuple[str, Node] | None = (
            (node.payload, node.members[node.payload]) if node.payload else None
        )


class RestCodec(ModelCodec):
    """The codec for rest-json and rest-xml services."""

    def __init__(self, service_model: ServiceModel) -> None:
        super().__init__(service_model)
        self.xml = service_model.protocol == "rest-xml"
        self._router = Router(service_model)
        self._plans: dict[tuple[str, bool], _Plan | None] = {}
        ns = service_model.metadata.get("xmlNamespace")
        if isinstance(ns, dict):
            ns = ns.get("uri")
        self._namespace = ns or (S3_NAMESPACE if service_model.service_name == "s3" else None)
        self._s3 = service_model.service_name == "s3"
        self._writer = XmlWriter("iso8601", millis=True)

    # ---- requests -------------------------------------------------------------------------------

    def find_operation(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        found = self._router.match(request)
        if found is None:
            if not self.xml:
                raise ServiceError("UnknownOperationException", "", 404)
            segments = [s for s in request.path.split("/") if s]
            kind = "SERVICE" if not segments else "BUCKET" if len(segments) == 1 else "OBJECT"
            raise ServiceError(
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                405,
                fields={"Method": request.method.upper(), "ResourceType": kind},
            )
        name, labels = found
        return self.service_model.operation_model(name), labels

    def parse(
        self, operation: OperationModel, request: HttpRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        node = self.input_node(operation)
        if node is None:
            return {}
        plan = self._plan(operation, node, True)
        assert plan is not None
        out: dict[str, Any] = {}
        for name, child, wire in plan.uri:
            if wire in path_params:
                out[name] = self._scalar(child, path_params[wire], wire)
        if plan.query or plan.query_map:
            self._parse_query(plan, request, out)
        headers = request.headers
        index = plan.header_index
        for key in headers:  # lower-cased names
            entry = index.get(key)
            if entry is not None:
                out[entry[0]] = self._header_value(entry[1], headers[key], entry[2])
        for name, _child, prefix in plan.header_maps:
            found = {k[len(prefix) :]: headers[k] for k in headers if k.startswith(prefix)}
            if found:
                out[name] = found
        if plan.payload is not None:
            pname, pnode = plan.payload
            if pnode.type == "blob":
                out[pname] = request.body
            elif pnode.type == "string":
                body = request.body
                out[pname] = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else body
            elif request.body:
                value = self._parse_body(pnode, request.body)
                if value is not None:
                    out[pname] = value
        elif plan.body and request.body:
            out.update(self._parse_body(node, request.body) or {})
        return out

    def _parse_query(self, plan: _Plan, request: HttpRequest, out: dict[str, Any]) -> None:
        pairs = request.query
        grouped: dict[str, list[str]] = {}
        for k, v in pairs:
            grouped.setdefault(k, []).append(v)
        known: set[str] = set()
        for name, child, wire in plan.query:
            known.add(wire)
            values = grouped.get(wire)
            if not values:
                continue
            if child.type == "list":
                member = child.member
                assert member is not None
                out[name] = [self._scalar(member, v, wire) for v in values]
            else:
                out[name] = self._scalar(child, values[0], wire)
        if plan.query_map is not None:
            name, child = plan.query_map
            listy = child.value is not None and child.value.type == "list"
            found: dict[str, Any] = {}
            for k, v in pairs:
                if k not in known:
                    if listy:
                        found.setdefault(k, []).append(v)
                    else:
                        found.setdefault(k, v)
            if found:
                out[name] = found

    def _parse_body(self, node: Node, body: Any) -> Any:
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError("a structured request body must be read into bytes first")
        if not self.xml:
            return parse_json_structure(node, load_json_body(body))
        try:
            return from_xml(node, parse_xml(bytes(body)))
        except ValueError as exc:
            raise ServiceError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            ) from exc

    def _scalar(self, node: Node, text: str, wire: str) -> Any:
        try:
            return scalar_from_text(node, text)
        except ValueError as exc:
            if not self.xml:
                raise ServiceError(
                    "SerializationException", f"Invalid value for {wire}: {text}", 400
                ) from exc
            message = (
                f"Provided {wire} not an integer or within integer range"
                if node.type in ("integer", "long")
                else f"Invalid Argument: {wire}"
            )
            raise ServiceError(
                "InvalidArgument", message, 400, fields={"ArgumentName": wire, "ArgumentValue": text}
            ) from exc

    def _header_value(self, node: Node, text: str, wire: str) -> Any:
        if node.type == "list":
            member = node.member
            assert member is not None
            return [self._scalar(member, part, wire) for part in _split_header_list(text)]
        if node.json_value:
            try:
                return json.loads(base64.b64decode(text))
            except ValueError as exc:
                raise ServiceError("SerializationException", f"Invalid value for {wire}", 400) from exc
        return self._scalar(node, text, wire)

    # ---- responses ------------------------------------------------------------------------------

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str) -> HttpResponse:
        headers = self._id_headers(request_id)
        result = result or {}
        # a status the model cannot express (S3's 206 for ranges, 204 for PutBucketPolicy)
        status = int(result.get(HTTP_STATUS) or operation.http.get("responseCode", 200))
        node = self.output_node(operation)
        if node is None:
            return HttpResponse(status, headers, b"")
        plan = self._plan(operation, node, False)
        assert plan is not None
        if plan.status and result.get(plan.status) is not None:
            status = int(result[plan.status])
        for name, child, wire in plan.headers:
            value = result.get(name)
            if value is not None and not (child.type == "list" and not value):
                headers[wire] = _header_text(child, value)
        for name, _child, prefix in plan.header_maps:
            for key, value in (result.get(name) or {}).items():
                headers[f"{prefix}{key}"] = str(value)
        body: Any = b""
        if plan.payload is not None:
            pname, pnode = plan.payload
            value = result.get(pname)
            if pnode.type in ("blob", "string"):
                body = value.encode("utf-8") if isinstance(value, str) else (b"" if value is None else value)
            elif value is not None:
                body = self._render(pnode, value, pnode.loc_name or pnode.name, headers)
        elif operation.name == "GetBucketLocation" and self._s3:
            body = self._bucket_location(result.get("LocationConstraint"), headers)
        elif plan.body:
            body = self._render(
                node, result, _S3_ROOTS.get(operation.name, f"{operation.name}Result"), headers
            )
        return HttpResponse(status, headers, body)

    def _render(self, node: Node, value: dict[str, Any], root: str, headers: dict[str, str]) -> bytes:
        if not self.xml:
            headers.setdefault("Content-Type", "application/json")
            return dump_json(to_json(node, value))
        out = [_XML_DECL]
        ns = f' xmlns="{escape_attr(self._namespace)}"' if self._namespace else ""
        self._writer.element(out, node, value, root, ns)
        headers.setdefault("Content-Type", "application/xml")
        return "".join(out).encode("utf-8")

    def _bucket_location(self, region: str | None, headers: dict[str, str]) -> bytes:
        headers.setdefault("Content-Type", "application/xml")
        text = escape(region) if region else ""
        return f'{_XML_DECL}<LocationConstraint xmlns="{S3_NAMESPACE}">{text}</LocationConstraint>'.encode()

    def serialize_error(
        self,
        error: ServiceError,
        operation: OperationModel | None,
        request_id: str,
        request: HttpRequest | None = None,
    ) -> HttpResponse:
        headers = self._id_headers(request_id)
        if not self.xml:
            headers["x-amzn-ErrorType"] = error.code
            headers["Content-Type"] = "application/json"
            headers.update(error.headers)
            return HttpResponse(error.status, headers, dump_json(json_error_body(self, error, False)))
        headers.update(error.headers)
        if (request is not None and request.method.upper() == "HEAD") or error.status == 304:
            return HttpResponse(error.status, headers, b"")  # HEAD and 304 answers carry no body
        out = [
            _XML_DECL,
            f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>",
        ]
        for key, value in error.fields.items():
            if value is not None and key not in ("Code", "Message", "RequestId", "HostId"):
                out.append(f"<{key}>{escape(_field_text(value))}</{key}>")
        out.append(
            f"<RequestId>{escape(request_id)}</RequestId><HostId>{headers['x-amz-id-2']}</HostId></Error>"
        )
        headers["Content-Type"] = "application/xml"
        return HttpResponse(error.status, headers, "".join(out).encode("utf-8"))

    # ---- helpers --------------------------------------------------------------------------------

    def _plan(self, operation: OperationModel, node: Node, is_input: bool) -> _Plan | None:
        key = (operation.name, is_input)
        try:
            return self._plans[key]
        except KeyError:
            plan = self._plans[key] = _Plan(node)
            return plan

    def _id_headers(self, request_id: str) -> dict[str, str]:
        if not self.xml:
            return {"x-amzn-RequestId": request_id}
        host_id = base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode()
        return {"x-amz-request-id": request_id, "x-amz-id-2": host_id}


def _header_text(node: Node, value: Any) -> str:
    if node.type == "timestamp":
        return str(format_timestamp(value, node.ts_format or "rfc822"))
    if node.type == "list":
        member = node.member
        assert member is not None
        return ",".join(_quote_header_item(_header_text(member, v)) for v in value if v is not None)
    if node.json_value:
        return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    if node.type == "boolean":
        return "true" if value else "false"
    if node.type in ("float", "double"):
        return float_text(value)
    if node.type == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return str(value)


def _quote_header_item(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"' if ('"' in text or "," in text) else text


def _split_header_list(text: str) -> list[str]:
    """Split a comma-separated header list, honouring double-quoted items."""
    if '"' not in text:
        return [part.strip() for part in text.split(",")]
    items, buf, quoted, i = [], [], False, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quoted and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
        i += 1
    items.append("".join(buf).strip())
    return items


def _field_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(format_timestamp(value, "iso8601", True))
    return str(value)
