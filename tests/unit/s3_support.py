"""Support for the S3 unit tests: the provider on a temporary SQLite store and blob store, called
the way the gateway calls it (upload bodies as finished SpooledBodies), every output checked
against botocore's S3 output shape and every error against the operation's modeled errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.validate import ParamValidator

from sagelocal.blobs.spool import CHECKSUM_ALGORITHMS, SpooledBody
from sagelocal.blobs.store import BlobStore
from sagelocal.services.base import HTTP_STATUS, RequestContext, ServiceError
from sagelocal.services.s3 import S3Provider
from sagelocal.store.db import Database
from sagelocal.store.models import Base
from tests.unit.iam_helpers import check_shape

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "ap-northeast-1"
MODEL = botocore.session.get_session().get_service_model("s3")
MiB = 1024 * 1024
# S3 answers these for any operation; the model lists few errors per operation.
GENERAL_ERRORS = {
    "AccessDenied",
    "BadRequest",
    "BadDigest",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "BucketNotEmpty",
    "EntityTooSmall",
    "IllegalLocationConstraintException",
    "InvalidArgument",
    "InvalidBucketName",
    "InvalidDigest",
    "InvalidLocationConstraint",
    "InvalidPart",
    "InvalidPartNumber",
    "InvalidPartOrder",
    "InvalidRange",
    "InvalidRequest",
    "InvalidStorageClass",
    "InvalidTag",
    "KeyTooLongError",
    "MalformedPolicy",
    "MalformedXML",
    "MetadataTooLarge",
    "NoSuchBucket",
    "NoSuchBucketPolicy",
    "NoSuchKey",
    "NoSuchTagSet",
    "NoSuchUpload",
    "NotImplemented",
    "NotModified",
    "PreconditionFailed",
}


def make_ctx(operation: str = "Test", account: str = ACCOUNT, region: str = REGION) -> RequestContext:
    return RequestContext(
        service="s3",
        operation=operation,
        region=region,
        account_id=account,
        principal=None,
        request_id="REQ",
        received_at=datetime.now(UTC),
    )


class S3:
    """Calls provider operations by their AWS names, checking inputs and outputs against the model."""

    def __init__(self, provider: S3Provider, account: str = ACCOUNT, region: str = REGION) -> None:
        self.provider = provider
        self.account = account
        self.region = region

    def as_account(self, account: str, region: str | None = None) -> S3:
        return S3(self.provider, account, region or self.region)

    def spool(self, data: bytes, algorithms: tuple[str, ...] = CHECKSUM_ALGORITHMS) -> SpooledBody:
        body = SpooledBody(self.provider.blobs.tmp_dir, algorithms)
        body.write(data)
        return body.finish()

    def __call__(self, op: str, **params: Any) -> dict[str, Any]:
        operation = MODEL.operation_model(op)
        body = params.get("Body")
        if isinstance(body, bytes):
            params["Body"] = self.spool(body)
        checkable = {k: v for k, v in params.items() if k != "Body"}
        report = ParamValidator().validate(checkable, operation.input_shape)
        assert not report.has_errors(), report.generate_report()
        ctx = make_ctx(op, self.account, self.region)
        try:
            result = getattr(self.provider, xform_name(op))(ctx, params)
        except ServiceError as err:
            modeled = {e.name for e in operation.error_shapes}
            assert err.code in modeled | GENERAL_ERRORS, f"{op} raised unexpected {err.code}"
            raise
        finally:
            if isinstance(params.get("Body"), SpooledBody):
                params["Body"].discard()  # as the gateway does
        if "Body" in result:
            result["Body"] = b"".join(result["Body"])
        if operation.output_shape is None:
            assert set(result) <= {HTTP_STATUS}, result  # at most the status the model can't say
        else:
            check_shape(operation.output_shape, result, op)
        return result

    def error(self, code: str, op: str, **params: Any) -> ServiceError:
        with pytest.raises(ServiceError) as info:
            self(op, **params)
        assert info.value.code == code, (info.value.code, info.value.message)
        return info.value

    # ---- conveniences -------------------------------------------------------------------------

    def bucket(self, name: str = "bkt") -> str:
        config = (
            {}
            if self.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        )
        self("CreateBucket", Bucket=name, **config)
        return name

    def put(self, key: str, data: bytes = b"hello", bucket: str = "bkt", **params: Any) -> dict[str, Any]:
        return self("PutObject", Bucket=bucket, Key=key, Body=data, **params)

    def get(self, key: str, bucket: str = "bkt", **params: Any) -> dict[str, Any]:
        return self("GetObject", Bucket=bucket, Key=key, **params)


def make_provider(tmp_path: Path) -> S3Provider:
    db = Database(f"sqlite:///{tmp_path}/t.db")
    Base.metadata.create_all(db.engine)
    return S3Provider(db, BlobStore(tmp_path / "blobs"))


def new_s3(tmp_path: Path) -> Iterator[S3]:
    """The body of each test module's `s3` fixture: a client on a fresh provider."""
    provider = make_provider(tmp_path)
    yield S3(provider)
    provider.db.dispose()


def blob_files(provider: S3Provider) -> set[str]:
    return set(provider.blobs.blob_ids())


def tmp_files(provider: S3Provider) -> list[Path]:
    return list(provider.blobs.tmp_dir.iterdir())
