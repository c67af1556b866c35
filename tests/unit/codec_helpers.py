"""botocore as the client of our codecs: its serializers build requests, its parsers read responses."""

from __future__ import annotations

import io
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from botocore.serialize import create_serializer

from sagelocal.gateway.http import Headers, HttpRequest, HttpResponse
from sagelocal.gateway.protocols import Codec, codec_for
from sagelocal.services.base import ServiceError


@cache
def service(name: str) -> ServiceModel:
    """botocore's model of a service."""
    return botocore.session.get_session().get_service_model(name)


def codec(name: str) -> Codec:
    """Our codec for a service."""
    return codec_for(service(name))


def op(service_name: str, operation: str) -> OperationModel:
    """An operation model."""
    return service(service_name).operation_model(operation)


def request_for(service_name: str, operation: str, params: dict[str, Any]) -> HttpRequest:
    """The HTTP request botocore would send for these parameters (path-style, no signing)."""
    model = op(service_name, operation)
    serializer = create_serializer(model.metadata["protocol"], include_validation=True)
    request_dict = serializer.serialize_to_request(params, model)
    prepare_request_dict(request_dict, endpoint_url="https://example.amazonaws.com")
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is None:
        body = b""
    elif hasattr(body, "read"):
        body = body.read()
    headers = Headers([(k, v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()])
    return HttpRequest(prepared.method, url.path or "/", url.query, headers, body)


def roundtrip_request(service_name: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """botocore-serialized request -> our find_operation + parse; checks the operation found."""
    request = request_for(service_name, operation, params)
    c = codec(service_name)
    found, path_params = c.find_operation(request)
    assert found.name == operation, (found.name, operation)
    return c.parse(found, request, path_params)


def botocore_parse(service_name: str, operation: str, response: HttpResponse) -> dict[str, Any]:
    """What botocore's parser (and its modeled-error step) reads from our response."""
    model = op(service_name, operation)
    body = response.body if isinstance(response.body, bytes) else b"".join(response.body)  # type: ignore[arg-type]
    headers = HeadersDict(response.headers)
    if response.status < 300 and model.has_streaming_output:
        wire: Any = StreamingBody(io.BytesIO(body), len(body))
    else:
        wire = body
    response_dict = {
        "status_code": response.status,
        "headers": headers,
        "body": wire,
        "context": {"operation_name": operation},
    }
    parser = create_parser(model.metadata["protocol"])
    parsed = parser.parse(response_dict, model.output_shape)
    if response.status >= 300:
        shape = service(service_name).shape_for_error_code(parsed.get("Error", {}).get("Code"))
        if shape is not None:
            parsed.update(parser.parse(response_dict, shape))
    return parsed


def roundtrip_response(service_name: str, operation: str, result: dict[str, Any]) -> dict[str, Any]:
    """Our serialize -> botocore's parser, ResponseMetadata removed."""
    response = codec(service_name).serialize(op(service_name, operation), result, "req-1")
    parsed = botocore_parse(service_name, operation, response)
    meta = parsed.pop("ResponseMetadata")
    assert meta.get("RequestId") == "req-1", meta
    return parsed


def error_roundtrip(
    service_name: str, operation: str, error: ServiceError, request: HttpRequest | None = None
) -> tuple[int, dict[str, Any], HttpResponse]:
    """Our serialize_error -> botocore's parser: (status, parsed response, raw response)."""
    response = codec(service_name).serialize_error(error, op(service_name, operation), "req-err", request)
    return response.status, botocore_parse(service_name, operation, response), response


def raw_request(
    method: str, path: str, query: str = "", body: bytes = b"", headers: dict[str, str] | None = None
) -> HttpRequest:
    """A hand-built request."""
    return HttpRequest(method, path, query, Headers(list((headers or {}).items())), body)
