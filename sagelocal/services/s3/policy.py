"""Bucket policies: Put/Get/DeleteBucketPolicy with S3's validation (stored; enforced later)."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

from sagelocal.services.base import HTTP_STATUS, RequestContext, ServiceError
from sagelocal.services.s3.common import S3Base, get_bucket

MAX_POLICY_BYTES = 20 * 1024
_ACTION = re.compile(r"^s3(-object-lambda)?:[A-Za-z0-9*?]+$")
_TOP_LEVEL = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}


def _malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicy", message, 400)


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        raise _malformed("Invalid policy syntax.")
    return items


def _check_resource(resource: str, bucket: str) -> None:
    prefix = "arn:aws:s3:::"
    if resource == "*":
        return
    if not resource.startswith(prefix):
        raise _malformed("Policy has invalid resource")
    name = resource[len(prefix) :].split("/", 1)[0]
    if not fnmatchcase(bucket, name):
        raise _malformed("Policy has invalid resource")


def validate_policy(text: str, bucket: str) -> None:
    """Raise MalformedPolicy as S3 does for a document it would refuse."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise _malformed("Policies must be less than 20 KB")
    if not text.lstrip().startswith("{"):
        raise _malformed("Policies must be valid JSON and the first byte must be '{'")
    try:
        doc = json.loads(text)
    except ValueError:
        raise _malformed("Policies must be valid JSON and the first byte must be '{'") from None
    if not isinstance(doc, dict) or set(doc) - _TOP_LEVEL:
        raise _malformed("Invalid policy syntax.")
    if "Version" in doc and doc["Version"] not in ("2012-10-17", "2008-10-17"):
        raise _malformed("Invalid policy syntax.")
    statements = doc.get("Statement")
    if statements is None:
        raise _malformed("Missing required field Statement")
    for st in statements if isinstance(statements, list) else [statements]:
        if not isinstance(st, dict) or set(st) - _STATEMENT_KEYS:
            raise _malformed("Invalid policy syntax.")
        if "Effect" not in st:
            raise _malformed("Missing required field Effect")
        if st["Effect"] not in ("Allow", "Deny"):
            raise _malformed(f"Invalid effect: {st['Effect']}")
        if "Principal" not in st and "NotPrincipal" not in st:
            raise _malformed("Missing required field Principal")
        actions = st.get("Action", st.get("NotAction"))
        if actions is None:
            raise _malformed("Missing required field Action")
        for action in _strings(actions):
            if action != "*" and not _ACTION.match(action):
                raise _malformed("Policy has invalid action")
        resources = st.get("Resource", st.get("NotResource"))
        if resources is None:
            raise _malformed("Missing required field Resource")
        for resource in _strings(resources):
            _check_resource(resource, bucket)
        if "Condition" in st and not isinstance(st["Condition"], dict):
            raise _malformed("Invalid policy syntax.")


class PolicyOps(S3Base):
    """Bucket policy documents."""

    def put_bucket_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("Policy") or ""
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode("utf-8", "replace")
        validate_policy(text, params["Bucket"])
        with self.db.write() as s:
            bucket = get_bucket(s, ctx, params)
            bucket.policy = text
        return {HTTP_STATUS: 204}  # S3 answers 204 No Content; the model says nothing

    def get_bucket_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            bucket = get_bucket(s, ctx, params)
            if bucket.policy is None:
                raise ServiceError(
                    "NoSuchBucketPolicy",
                    "The bucket policy does not exist",
                    404,
                    fields={"BucketName": bucket.name},
                )
            return {"Policy": bucket.policy}

    def delete_bucket_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            bucket = get_bucket(s, ctx, params)
            bucket.policy = None
        return {}
