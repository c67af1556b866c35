"""Support for the IAM unit tests: a provider on a temporary SQLite store, called the way the
gateway will call it, with every output checked against botocore's IAM model.

`IamClient.<snake_case_operation>(**params)`:
1. validates `params` against the operation's input shape (botocore's ParamValidator, as a client
   would before sending);
2. calls the provider;
3. checks the result against the output shape: required members present, no unknown members,
   Python types right (aware datetimes for timestamps);
4. renders it as the query protocol's XML response, parses that with botocore's own QueryParser and
   applies botocore's IAM `json_decode_policies` handler, returning what boto3 would hand a user
   (policy documents decoded to dicts).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import botocore.session
import pytest
from botocore import xform_name
from botocore.handlers import json_decode_policies
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.parsers import QueryParser
from botocore.validate import ParamValidator

from sagelocal.services.base import HTTP_STATUS, Principal, RequestContext, ServiceError
from sagelocal.services.iam.identity import bootstrap_admin, find_access_key
from sagelocal.services.iam.provider import IamProvider
from sagelocal.store.db import Database
from sagelocal.store.models import Base

ACCOUNT = "123456789012"
IAM_MODEL: ServiceModel = botocore.session.get_session().get_service_model("iam")
OPERATIONS = {xform_name(name): name for name in IAM_MODEL.operation_names}
# Errors IAM answers that its model does not list per operation.
UNMODELED_ERRORS = {"ValidationError", "AccessDenied", "NotImplemented"}


def make_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path}/t.db")
    Base.metadata.create_all(db.engine)
    return db


def admin_principal(db: Database, account_id: str = ACCOUNT) -> Principal:
    key_id, _ = bootstrap_admin(db, account_id)
    with db.read() as s:
        key = find_access_key(s, key_id)
    assert key is not None
    return Principal(
        account_id=account_id, arn=key.user_arn, user_id=key.user_id, kind="user", access_key_id=key_id
    )


# --- output checks -------------------------------------------------------------------------------

_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "long": int,
    "boolean": bool,
    "float": (int, float),
    "double": (int, float),
    "blob": bytes,
}


def check_shape(shape: Shape, value: Any, where: str = "") -> None:
    """Assert `value` fits `shape`: required members, known members, Python types."""
    t = shape.type_name
    if t == "structure":
        assert isinstance(value, dict), f"{where}: expected dict, got {value!r}"
        unknown = set(value) - set(shape.members) - {HTTP_STATUS}
        assert not unknown, f"{where}: members not in {shape.name}: {unknown}"
        missing = [m for m in shape.required_members if m not in value]
        assert not missing, f"{where}: required members of {shape.name} missing: {missing}"
        for name, member in shape.members.items():
            if name in value:
                check_shape(member, value[name], f"{where}.{name}")
    elif t == "list":
        assert isinstance(value, list), f"{where}: expected list, got {value!r}"
        for i, item in enumerate(value):
            check_shape(shape.member, item, f"{where}[{i}]")
    elif t == "map":
        assert isinstance(value, dict), f"{where}: expected map"
        for k, v in value.items():
            check_shape(shape.value, v, f"{where}[{k}]")
    elif t == "timestamp":
        assert isinstance(value, datetime) and value.tzinfo is not None, f"{where}: need aware datetime"
    else:
        expected = _PY_TYPES[t]
        assert isinstance(value, expected), f"{where}: expected {t}, got {value!r}"
        if t in ("integer", "long"):
            assert not isinstance(value, bool), f"{where}: bool given for {t}"
        if t == "string" and "enum" in shape.metadata:
            assert value in shape.enum, f"{where}: {value!r} not in enum {shape.enum}"


def _to_xml(parent: Element, shape: Shape, value: Any, tag: str) -> None:
    el = SubElement(parent, tag)
    t = shape.type_name
    if t == "structure":
        for name, member in shape.members.items():
            if name in value:
                _to_xml(el, member, value[name], member.serialization.get("name", name))
    elif t == "list":
        item_tag = shape.member.serialization.get("name", "member")
        for item in value:
            _to_xml(el, shape.member, item, item_tag)
    elif t == "map":
        for k, v in value.items():
            entry = SubElement(el, "entry")
            SubElement(entry, "key").text = str(k)
            _to_xml(entry, shape.value, v, "value")
    elif t == "timestamp":
        el.text = value.isoformat()
    elif t == "boolean":
        el.text = "true" if value else "false"
    else:
        el.text = str(value)


def query_roundtrip(op: OperationModel, result: dict[str, Any]) -> dict[str, Any]:
    """Render `result` as IAM's XML response and parse it back the way boto3 does."""
    root = Element(f"{op.name}Response", xmlns=IAM_MODEL.metadata["xmlNamespace"])
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result")
        holder = SubElement(root, wrapper)
        for name, member in shape.members.items():
            if name in result:
                _to_xml(holder, member, result[name], member.serialization.get("name", name))
    meta = SubElement(root, "ResponseMetadata")
    SubElement(meta, "RequestId").text = "test-request"
    body = tostring(root, encoding="utf-8")
    parsed = QueryParser().parse({"body": body, "headers": {}, "status_code": 200}, shape)
    json_decode_policies(parsed, op)
    parsed.pop("ResponseMetadata", None)
    return parsed


# --- the client ----------------------------------------------------------------------------------


class IamClient:
    """Calls an IamProvider like the gateway + boto3 would, checking both sides against the model."""

    def __init__(self, provider: IamProvider, principal: Principal | None, account_id: str = ACCOUNT) -> None:
        self.provider = provider
        self.principal = principal
        self.account_id = account_id
        self.raw: dict[str, Any] = {}  # the provider's last result, before the XML round trip

    def as_principal(self, principal: Principal | None) -> IamClient:
        return IamClient(self.provider, principal, self.account_id)

    def __getattr__(self, snake: str) -> Callable[..., dict[str, Any]]:
        if snake not in OPERATIONS:
            raise AttributeError(snake)
        op = IAM_MODEL.operation_model(OPERATIONS[snake])

        def call(**params: Any) -> dict[str, Any]:
            if op.input_shape is not None:
                report = ParamValidator().validate(params, op.input_shape)
                assert not report.has_errors(), report.generate_report()
            ctx = RequestContext(
                service="iam",
                operation=op.name,
                region="us-east-1",
                account_id=self.account_id,
                principal=self.principal,
                request_id="test-request",
            )
            try:
                result = getattr(self.provider, snake)(ctx, params)
            except ServiceError as err:
                modeled = {e.metadata.get("error", {}).get("code", e.name) for e in op.error_shapes}
                assert err.code in modeled | UNMODELED_ERRORS, f"{op.name} raised unmodeled {err.code}"
                raise
            self.raw = result
            if op.output_shape is None:
                assert result == {}, f"{op.name} has no output but returned {result!r}"
                return {}
            check_shape(op.output_shape, result, op.name)
            return query_roundtrip(op, result)

        return call


def make_client(tmp_path: Path) -> IamClient:
    db = make_db(tmp_path)
    return IamClient(IamProvider(db), admin_principal(db))


def raises(code: str, fn: Callable[..., Any], **params: Any) -> ServiceError:
    """Call `fn(**params)` expecting ServiceError `code`; return the error for further checks."""
    with pytest.raises(ServiceError) as info:
        fn(**params)
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value.message}"
    return info.value


TRUST_SAGEMAKER = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)
S3_READ = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
