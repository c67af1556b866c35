"""What the four codecs share: compiled input/output/error nodes per operation, cached per codec."""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel, ServiceModel

from sagelocal.gateway.protocols.base import Codec
from sagelocal.gateway.protocols.shapes import Node, compile_shape


class ModelCodec(Codec):
    """A codec with per-operation compiled shapes (built on first use, then read-only)."""

    def __init__(self, service_model: ServiceModel) -> None:
        super().__init__(service_model)
        self._memo: dict[tuple[Any, ...], Node] = {}
        self._inputs: dict[str, Node | None] = {}
        self._outputs: dict[str, Node | None] = {}
        self._errors: dict[str, Node | None] = {}
        self._operation_names = frozenset(service_model.operation_names)

    def input_node(self, operation: OperationModel) -> Node | None:
        """The compiled input shape of an operation (None when it takes no input)."""
        try:
            return self._inputs[operation.name]
        except KeyError:
            node = self._inputs[operation.name] = compile_shape(operation.input_shape, self._memo)
            return node

    def output_node(self, operation: OperationModel) -> Node | None:
        """The compiled output shape of an operation (None when it returns nothing)."""
        try:
            return self._outputs[operation.name]
        except KeyError:
            node = self._outputs[operation.name] = compile_shape(operation.output_shape, self._memo)
            return node

    def error_node(self, code: str) -> Node | None:
        """The compiled shape of a modeled error code, if the service models it."""
        try:
            return self._errors[code]
        except KeyError:
            shape = self.service_model.shape_for_error_code(code)
            node = self._errors[code] = compile_shape(shape, self._memo)
            return node

    def operation(self, name: str) -> OperationModel | None:
        """The named operation, or None when the service has no such operation."""
        if name in self._operation_names:
            return self.service_model.operation_model(name)
        return None


def message_key(error_node: Node | None, default: str = "message") -> str:
    """The member name a modeled error uses for its message (`Message` or `message`)."""
    if error_node is not None:
        for name, child in error_node.members.items():
            if name.lower() == "message":
                return child.loc_name or name
    return default


def error_fields(error_node: Node | None, fields: dict[str, Any]) -> list[tuple[str, Node, Any]]:
    """The error's extra fields its shape declares, as (member name, node, value), message excluded."""
    if error_node is None or not fields:
        return []
    out = []
    for name, child in error_node.members.items():
        if name.lower() != "message" and fields.get(name) is not None:
            out.append((name, child, fields[name]))
    return out
