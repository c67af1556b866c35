"""The IAM actions S3 operations need (AWS's "Actions, resources, and condition keys for Amazon
S3"): most are `s3:<Operation>`; these differ. Bucket resources are `arn:aws:s3:::<bucket>`,
object resources `arn:aws:s3:::<bucket>/<key>`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from sagelocal.services.authz_requests import ActionRequest, ContextValue
from sagelocal.services.base import RequestContext

# operation -> (action, on the object?) where the action is not `s3:<Operation>` on the bucket.
_RENAMED: dict[str, tuple[str, bool]] = {
    "HeadBucket": ("s3:ListBucket", False),
    "ListObjects": ("s3:ListBucket", False),
    "ListObjectsV2": ("s3:ListBucket", False),
    "ListObjectVersions": ("s3:ListBucketVersions", False),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", False),
    "DeleteBucketTagging": ("s3:PutBucketTagging", False),
    "GetObject": ("s3:GetObject", True),
    "HeadObject": ("s3:GetObject", True),
    "GetObjectAttributes": ("s3:GetObjectAttributes", True),
    "PutObject": ("s3:PutObject", True),
    "CreateMultipartUpload": ("s3:PutObject", True),
    "UploadPart": ("s3:PutObject", True),
    "CompleteMultipartUpload": ("s3:PutObject", True),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", True),
    "ListParts": ("s3:ListMultipartUploadParts", True),
    "DeleteObject": ("s3:DeleteObject", True),
    "GetObjectTagging": ("s3:GetObjectTagging", True),
    "PutObjectTagging": ("s3:PutObjectTagging", True),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", True),
    "GetObjectAcl": ("s3:GetObjectAcl", True),
    "PutObjectAcl": ("s3:PutObjectAcl", True),
    "CopyObject": ("s3:PutObject", True),
    "UploadPartCopy": ("s3:PutObject", True),
}
_OBJECT_READS = {"GetObject", "HeadObject", "GetObjectTagging", "GetObjectAttributes", "GetObjectAcl"}


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _request_tags(tagging: str | None) -> dict[str, ContextValue]:
    """s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys from an x-amz-tagging header."""
    if not tagging:
        return {}
    pairs = parse_qsl(tagging, keep_blank_values=True)
    out: dict[str, ContextValue] = {f"s3:RequestObjectTag/{k}": v for k, v in pairs}
    out["s3:RequestObjectTagKeys"] = [k for k, _ in pairs]
    return out


def _copy_source(params: dict[str, Any]) -> ActionRequest | None:
    source = params.get("CopySource")
    if not isinstance(source, str):
        return None
    path = source.split("?", 1)[0].lstrip("/")
    from urllib.parse import unquote

    bucket, _, key = unquote(path).partition("/")
    if not bucket or not key:
        return None
    return ActionRequest("s3:GetObject", object_arn(bucket, key), bucket=bucket, object_key=key)


def s3_actions(ctx: RequestContext, operation: str, params: dict[str, Any]) -> list[ActionRequest]:
    bucket = params.get("Bucket")
    if operation == "ListBuckets":
        return [ActionRequest("s3:ListAllMyBuckets")]
    if not isinstance(bucket, str):
        return [ActionRequest(f"s3:{operation}")]
    if operation == "DeleteObjects":  # each key needs s3:DeleteObject
        keys = [o["Key"] for o in params.get("Delete", {}).get("Objects", [])]
        return [ActionRequest("s3:DeleteObject", object_arn(bucket, k), bucket=bucket) for k in keys]
    action, on_object = _RENAMED.get(operation, (f"s3:{operation}", False))
    context: dict[str, ContextValue] = {}
    if operation in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
        context = {"s3:prefix": params.get("Prefix", "")}
        if "Delimiter" in params:
            context["s3:delimiter"] = params["Delimiter"]
        if "MaxKeys" in params:
            context["s3:max-keys"] = str(params["MaxKeys"])
    key = params.get("Key") if on_object else None
    if on_object and isinstance(key, str):
        if operation in ("PutObject", "CopyObject", "CreateMultipartUpload"):
            context |= _request_tags(params.get("Tagging"))
        request = ActionRequest(
            action,
            object_arn(bucket, key),
            context,
            bucket=bucket,
            object_key=key if operation in _OBJECT_READS else None,
        )
        source = _copy_source(params) if operation in ("CopyObject", "UploadPartCopy") else None
        return [request, source] if source else [request]
    return [ActionRequest(action, bucket_arn(bucket), context, bucket=bucket)]
