"""Tags: object tagging (x-amz-tagging on writes, Put/Get/DeleteObjectTagging) and bucket tagging."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from sagelocal.services.base import HTTP_STATUS, RequestContext, ServiceError
from sagelocal.services.s3.common import S3Base, get_bucket, get_object, invalid_argument

MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50


def _invalid_tag(message: str, key: str | None = None, value: str | None = None) -> ServiceError:
    fields = {k: v for k, v in (("TagKey", key), ("TagValue", value)) if v is not None}
    return ServiceError("InvalidTag", message, 400, fields=fields)


def validate_tags(pairs: list[tuple[str, str]], *, bucket: bool = False) -> dict[str, str]:
    """S3's tag rules (count, lengths, unique keys, no `aws:` prefix); returns the tags as a dict."""
    limit = MAX_BUCKET_TAGS if bucket else MAX_OBJECT_TAGS
    if len(pairs) > limit:
        if bucket:
            raise _invalid_tag(f"Bucket tag count cannot be greater than {limit}")
        # S3 answers too many object tags with BadRequest, not InvalidTag
        raise ServiceError("BadRequest", f"Object tags cannot be greater than {limit}", 400)
    out: dict[str, str] = {}
    for key, value in pairs:
        if not key or len(key) > 128:
            raise _invalid_tag(
                "The TagKey you have provided is invalid"
                if not key
                else "The TagKey you have provided is too long, max 128",
                key,
            )
        if len(value) > 256:
            raise _invalid_tag("The TagValue you have provided is too long, max 256", key, value)
        if key.lower().startswith("aws:"):
            raise _invalid_tag("Your TagKey cannot be prefixed with aws:", key)
        if key in out:
            raise _invalid_tag("Cannot provide multiple Tags with the same key", key)
        out[key] = value
    return out


def tags_from_header(text: str | None) -> dict[str, str]:
    """The tags of an `x-amz-tagging: k1=v1&k2=v2` header (URL-encoded query form)."""
    if not text:
        return {}
    return validate_tags(parse_qsl(text, keep_blank_values=True))


def tags_from_tagging(tagging: dict[str, Any] | None, *, bucket: bool = False) -> dict[str, str]:
    tag_set = (tagging or {}).get("TagSet") or []
    return validate_tags([(t.get("Key", ""), t.get("Value", "")) for t in tag_set], bucket=bucket)


def tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class TaggingOps(S3Base):
    """Object and bucket tagging."""

    @staticmethod
    def _check_version(params: dict[str, Any]) -> None:
        version = params.get("VersionId")
        if version not in (None, "null"):
            raise invalid_argument("Invalid version id specified", "versionId", version)

    def put_object_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._check_version(params)
        tags = tags_from_tagging(params.get("Tagging"))
        with self.db.write() as s:
            get_bucket(s, ctx, params)
            obj = get_object(s, params["Bucket"], params["Key"])
            obj.tags = tags
        return {}

    def get_object_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._check_version(params)
        with self.db.read() as s:
            get_bucket(s, ctx, params)
            obj = get_object(s, params["Bucket"], params["Key"])
            return {"TagSet": tag_set(obj.tags or {})}

    def delete_object_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._check_version(params)
        with self.db.write() as s:
            get_bucket(s, ctx, params)
            obj = get_object(s, params["Bucket"], params["Key"])
            obj.tags = {}
        return {}

    def put_bucket_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = tags_from_tagging(params.get("Tagging"), bucket=True)
        with self.db.write() as s:
            bucket = get_bucket(s, ctx, params)
            bucket.tags = tag_set(tags)
        return {HTTP_STATUS: 204}  # S3 answers 204 No Content; the model says nothing

    def get_bucket_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as s:
            bucket = get_bucket(s, ctx, params)
            if not bucket.tags:
                raise ServiceError(
                    "NoSuchTagSet", "The TagSet does not exist", 404, fields={"BucketName": bucket.name}
                )
            return {"TagSet": [dict(t) for t in bucket.tags]}

    def delete_bucket_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            bucket = get_bucket(s, ctx, params)
            bucket.tags = None
        return {}
