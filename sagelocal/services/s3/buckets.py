"""Buckets: CreateBucket, HeadBucket, ListBuckets, GetBucketLocation, DeleteBucket."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError

from sagelocal.services.base import RequestContext, ServiceError
from sagelocal.services.s3.common import (
    S3Base,
    canonical_id,
    get_bucket,
    invalid_argument,
    now_ms,
    owner,
)
from sagelocal.services.s3.names import check_bucket_name
from sagelocal.store.models.s3 import S3Bucket, S3MultipartUpload, S3Object, S3Part

US_EAST_1 = "us-east-1"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def _bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def _location(ctx: RequestContext, config: dict[str, Any] | None) -> str:
    """The region a new bucket goes to, by S3's LocationConstraint rules for the endpoint's region."""
    constraint = (config or {}).get("LocationConstraint") or None
    if constraint == "EU":
        constraint = "eu-west-1"
    invalid = ServiceError(
        "InvalidLocationConstraint",
        "The specified location-constraint is not valid",
        400,
        fields={"LocationConstraint": constraint},
    )
    if constraint is not None and not _REGION.match(constraint):
        raise invalid
    if ctx.region == US_EAST_1:
        if constraint == US_EAST_1:
            raise invalid
        return constraint or US_EAST_1
    if constraint != ctx.region:
        shown = constraint or "unspecified"
        raise ServiceError(
            "IllegalLocationConstraintException",
            f"The {shown} location constraint is incompatible for the region specific endpoint this "
            "request was sent to.",
            400,
        )
    return constraint


def _taken(bucket: S3Bucket | None, ctx: RequestContext, name: str) -> ServiceError | None:
    """The error for creating an existing bucket (None: us-east-1's legacy 200 for your own)."""
    if bucket is None or bucket.account_id != ctx.account_id:
        return ServiceError(
            "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by all users "
            "of the system. Please select a different name and try again.",
            409,
            fields={"BucketName": name},
        )
    if bucket.region == US_EAST_1 and ctx.region == US_EAST_1:
        return None
    return ServiceError(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        fields={"BucketName": name},
    )


class BucketOps(S3Base):
    """Bucket lifecycle operations."""

    def create_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Bucket"]
        check_bucket_name(name)
        region = _location(ctx, params.get("CreateBucketConfiguration"))
        out = {"Location": f"/{name}", "BucketArn": _bucket_arn(name)}
        principal = ctx.principal
        try:
            with self.db.write() as s:
                existing = s.get(S3Bucket, name)
                if existing is not None:
                    err = _taken(existing, ctx, name)
                    if err is None:
                        return out
                    raise err
                s.add(
                    S3Bucket(
                        name=name,
                        account_id=ctx.account_id,
                        region=region,
                        created_at=now_ms(ctx),
                        owner_id=canonical_id(ctx.account_id),
                        owner_name=principal.name if principal is not None else "",
                        policy=None,
                        tags=None,
                    )
                )
        except IntegrityError:  # a concurrent create won the race
            with self.db.read() as s:
                err = _taken(s.get(S3Bucket, name), ctx, name)
            if err is None:
                return out
            raise err from None
        return out

    def head_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            bucket = get_bucket(s, ctx, params)
            return {"BucketRegion": bucket.region, "AccessPointAlias": False}

    def get_bucket_location(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            bucket = get_bucket(s, ctx, params)
            return {} if bucket.region == US_EAST_1 else {"LocationConstraint": bucket.region}

    def list_buckets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("MaxBuckets")
        if limit is not None and not 1 <= limit <= 10000:
            raise invalid_argument(
                "Argument max-buckets must be an integer between 1 and 10000", "max-buckets", limit
            )
        conds = [S3Bucket.account_id == ctx.account_id]
        prefix = params.get("Prefix")
        if prefix:
            conds.append(S3Bucket.name.startswith(prefix, autoescape=True))
        if params.get("BucketRegion"):
            conds.append(S3Bucket.region == params["BucketRegion"])
        token = params.get("ContinuationToken")
        if token:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except (binascii.Error, ValueError, UnicodeDecodeError):
                raise invalid_argument(
                    "The continuation token provided is incorrect", "continuation-token", token
                ) from None
            conds.append(S3Bucket.name > after)
        query = select(S3Bucket).where(*conds).order_by(S3Bucket.name)
        if limit is not None:
            query = query.limit(limit + 1)
        with self.db.read() as s:
            rows = list(s.scalars(query))
        out: dict[str, Any] = {"Owner": owner(ctx.account_id)}
        if limit is not None and len(rows) > limit:
            rows = rows[:limit]
            out["ContinuationToken"] = base64.urlsafe_b64encode(rows[-1].name.encode()).decode()
        out["Buckets"] = [
            {
                "Name": b.name,
                "CreationDate": b.created_at,
                "BucketRegion": b.region,
                "BucketArn": _bucket_arn(b.name),
            }
            for b in rows
        ]
        if prefix is not None:
            out["Prefix"] = prefix
        return out

    def delete_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Bucket"]
        with self.db.write() as s:
            get_bucket(s, ctx, params, lock=True)
            if s.scalar(select(exists().where(S3Object.bucket == name))):
                raise ServiceError(
                    "BucketNotEmpty",
                    "The bucket you tried to delete is not empty",
                    409,
                    fields={"BucketName": name},
                )
            upload_ids = select(S3MultipartUpload.upload_id).where(S3MultipartUpload.bucket == name)
            part_blobs = list(s.scalars(select(S3Part.blob_id).where(S3Part.upload_id.in_(upload_ids))))
            s.execute(delete(S3Part).where(S3Part.upload_id.in_(upload_ids)))
            s.execute(delete(S3MultipartUpload).where(S3MultipartUpload.bucket == name))
            s.execute(delete(S3Bucket).where(S3Bucket.name == name))
        self.delete_blobs_later(part_blobs)
        return {}
