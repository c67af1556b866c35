"""Generic wire-protocol codecs driven by botocore service models: json, query, rest-json, rest-xml."""

from __future__ import annotations

import threading

from botocore.model import ServiceModel

from sagelocal.gateway.protocols.base import Codec
from sagelocal.gateway.protocols.json_codec import JsonCodec
from sagelocal.gateway.protocols.query_codec import QueryCodec
from sagelocal.gateway.protocols.rest_codec import RestCodec

__all__ = ["Codec", "JsonCodec", "QueryCodec", "RestCodec", "codec_for"]

_CODECS: dict[str, Codec] = {}
_LOCK = threading.Lock()
_BY_PROTOCOL: dict[str, type[Codec]] = {
    "json": JsonCodec,
    "query": QueryCodec,
    "rest-json": RestCodec,
    "rest-xml": RestCodec,
}


def codec_for(service_model: ServiceModel) -> Codec:
    """The codec of a service (one instance per service name, built on first use)."""
    name = service_model.service_name
    codec = _CODECS.get(name)
    if codec is None:
        with _LOCK:
            codec = _CODECS.get(name)
            if codec is None:
                protocol = service_model.protocol
                try:
                    cls = _BY_PROTOCOL[protocol]
                except KeyError:
                    raise ValueError(f"unsupported protocol {protocol!r} of service {name}") from None
                codec = _CODECS[name] = cls(service_model)
    return codec
