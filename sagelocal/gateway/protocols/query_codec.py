"""The `query` protocol (iam, sts): form-encoded `Action=...&Version=...` in, XML out.

Input keys follow botocore's query serializer: `Tags.member.1.Key`, maps as `X.entry.1.key/value`,
flattened lists without the `member` step, empty lists sent as `X=` (an empty value).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from botocore.model import OperationModel, ServiceModel

from sagelocal.gateway.http import HttpRequest, HttpResponse
from sagelocal.gateway.protocols.common import ModelCodec, error_fields
from sagelocal.gateway.protocols.shapes import Node, scalar_from_text
from sagelocal.gateway.protocols.xml_util import XmlWriter, escape, escape_attr
from sagelocal.services.base import ServiceError

_FORM = "application/x-www-form-urlencoded"
_PARAM_RE: dict[str, re.Pattern[str]] = {}


def form_params(request: HttpRequest) -> dict[str, str]:
    """The request's parameters: the query string plus a form-encoded body (body wins on repeats)."""
    params: dict[str, str] = {}
    if request.query_string:
        params.update(parse_qsl(request.query_string, keep_blank_values=True))
    body = request.body
    if body and isinstance(body, bytes | bytearray) and _FORM in request.headers.get("content-type", _FORM):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ServiceError("MalformedInput", "The request body is not valid UTF-8.", 400) from exc
        params.update(parse_qsl(text, keep_blank_values=True))
    return params


def _first_param(request: HttpRequest, name: str) -> str | None:
    """One parameter, found without decoding the whole form (the body wins over the query string)."""
    pattern = _PARAM_RE.get(name)
    if pattern is None:
        pattern = _PARAM_RE[name] = re.compile(rf"(?:^|&){name}=([^&]*)")
    body = request.body
    if body and isinstance(body, bytes | bytearray) and _FORM in request.headers.get("content-type", _FORM):
        m = pattern.search(bytes(body).decode("utf-8", "replace"))
        if m:
            return unquote_plus(m.group(1))
    m = pattern.search(request.query_string)
    return unquote_plus(m.group(1)) if m else None


class _Form:
    """The flat key/value pairs of one request, with every dotted prefix indexed for fast lookups."""

    __slots__ = ("params", "prefixes")

    def __init__(self, params: dict[str, str]) -> None:
        self.params = params
        prefixes: set[str] = set()
        for key in params:
            pos = key.find(".")
            while pos != -1:
                prefixes.add(key[:pos])
                pos = key.find(".", pos + 1)
        self.prefixes = prefixes

    def has(self, key: str) -> bool:
        return key in self.params or key in self.prefixes

    def read(self, node: Node, key: str) -> Any:
        """The value at `key` for the node, or None when absent."""
        t = node.type
        if t == "structure":
            if key and key not in self.prefixes:
                return None
            out: dict[str, Any] = {}
            for name, child in node.members.items():
                wire = child.loc_name or name
                value = self.read(child, f"{key}.{wire}" if key else wire)
                if value is not None:
                    out[name] = value
            return out
        if t == "list":
            return self._list(node, key)
        if t == "map":
            return self._map(node, key)
        text = self.params.get(key)
        if text is None:
            return None
        try:
            return scalar_from_text(node, text)
        except ValueError as exc:
            raise ServiceError(
                "MalformedInput", f"Invalid value '{text}' for parameter {key}: expected {t}.", 400
            ) from exc

    def _list(self, node: Node, key: str) -> list[Any] | None:
        if self.params.get(key) == "":
            return []
        member = node.member
        assert member is not None
        if node.flattened:
            prefix = key.rpartition(".")[0] + "." + member.loc_name if member.loc_name else key
            prefix = prefix.lstrip(".")
        else:
            prefix = f"{key}.{member.loc_name or 'member'}"
        if prefix not in self.prefixes:
            return None
        out = []
        i = 1
        while self.has(f"{prefix}.{i}"):
            out.append(self.read(member, f"{prefix}.{i}"))
            i += 1
        return out

    def _map(self, node: Node, key: str) -> dict[str, Any] | None:
        prefix = key if node.flattened else f"{key}.entry"
        if prefix not in self.prefixes:
            return None
        knode, vnode = node.key, node.value
        assert knode is not None and vnode is not None
        kname, vname = knode.loc_name or "key", vnode.loc_name or "value"
        out: dict[str, Any] = {}
        i = 1
        while self.has(f"{prefix}.{i}"):
            k = self.read(knode, f"{prefix}.{i}.{kname}")
            if k is not None:
                out[k] = self.read(vnode, f"{prefix}.{i}.{vname}")
            i += 1
        return out


class QueryCodec(ModelCodec):
    """The codec for `query` protocol services (iam, sts)."""

    def __init__(self, service_model: ServiceModel) -> None:
        super().__init__(service_model)
        metadata = service_model.metadata
        self._namespace = metadata.get("xmlNamespace") or (
            f"https://{metadata.get('endpointPrefix', service_model.service_name)}.amazonaws.com"
            f"/doc/{metadata.get('apiVersion', '')}/"
        )
        self._xmlns = f' xmlns="{escape_attr(self._namespace)}"'
        self._writer = XmlWriter("iso8601", millis=False)

    def find_operation(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        action = _first_param(request, "Action")
        if not action:
            raise ServiceError("MissingAction", "Missing Action", 400)
        operation = self.operation(action)
        if operation is None:
            version = _first_param(request, "Version") or "null"
            raise ServiceError(
                "InvalidAction", f"Could not find operation {action} for version {version}", 400
            )
        return operation, {}

    def parse(
        self, operation: OperationModel, request: HttpRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        node = self.input_node(operation)
        if node is None:
            return {}
        return _Form(form_params(request)).read(node, "") or {}

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str) -> HttpResponse:
        name = operation.name
        out = [f"<{name}Response{self._xmlns}>"]
        node = self.output_node(operation)
        if node is not None:
            wrapper = node.result_wrapper or f"{name}Result"
            out.append(f"<{wrapper}>")
            self._writer.children(out, node, result or {})
            out.append(f"</{wrapper}>")
        out.append(f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>")
        out.append(f"</{name}Response>")
        return HttpResponse(200, self._headers(request_id), "".join(out).encode("utf-8"))

    def serialize_error(
        self,
        error: ServiceError,
        operation: OperationModel | None,
        request_id: str,
        request: HttpRequest | None = None,
    ) -> HttpResponse:
        kind = "Sender" if error.sender_fault else "Receiver"
        out = [
            f"<ErrorResponse{self._xmlns}><Error><Type>{kind}</Type>",
            f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>",
        ]
        node = self.error_node(error.code)
        for name, child, value in error_fields(node, error.fields):
            self._writer.element(out, child, value, node.xml_names[name] if node else name)
        out.append(f"</Error><RequestId>{escape(request_id)}</RequestId></ErrorResponse>")
        headers = {**self._headers(request_id), **error.headers}
        return HttpResponse(error.status, headers, "".join(out).encode("utf-8"))

    @staticmethod
    def _headers(request_id: str) -> dict[str, str]:
        return {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
