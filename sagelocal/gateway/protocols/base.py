"""The interface of a wire-protocol codec, driven entirely by a botocore ServiceModel.

One codec per protocol (json, query, rest-json, rest-xml). A codec is built once per service and
is stateless afterwards, so the gateway can share it between concurrent requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from botocore.model import OperationModel, ServiceModel

from sagelocal.gateway.http import HttpRequest, HttpResponse
from sagelocal.services.base import ServiceError


class Codec(ABC):
    """Finds the operation of a request, parses its input, serializes output and errors."""

    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model

    @abstractmethod
    def find_operation(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        """The operation the request calls, and (rest protocols) the decoded URI path parameters.

        Raises ServiceError with the protocol's "unknown operation" error when none matches.
        """

    @abstractmethod
    def parse(
        self, operation: OperationModel, request: HttpRequest, path_params: dict[str, str]
    ) -> dict[str, Any]:
        """The operation's input members, keyed by member name, typed per the shape.

        timestamps -> aware datetime, blobs -> bytes (a payload blob is passed through as the
        request body object unread), integers/longs -> int, floats/doubles -> float,
        booleans -> bool. Absent members are absent. Raises ServiceError for a body that
        cannot be read (malformed JSON/XML/form, a value of the wrong type).
        """

    @abstractmethod
    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str) -> HttpResponse:
        """The success response for the operation's output members in `result`."""

    @abstractmethod
    def serialize_error(
        self,
        error: ServiceError,
        operation: OperationModel | None,
        request_id: str,
        request: HttpRequest | None = None,
    ) -> HttpResponse:
        """The error response in the protocol's format, status `error.status`."""
