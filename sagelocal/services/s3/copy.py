"""CopyObject, and the copy-source handling UploadPartCopy shares with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from sagelocal.services.base import RequestContext
from sagelocal.services.s3.attrs import attrs_of, write_attrs
from sagelocal.services.s3.checksums import file_checksum, requested_checksum
from sagelocal.services.s3.common import (
    S3Base,
    check_key,
    evaluate_conditions,
    get_bucket,
    get_object,
    invalid_argument,
    invalid_request,
    now_ms,
)
from sagelocal.services.s3.objects import checksum_output, write_conditions
from sagelocal.services.s3.tagging import tags_from_header
from sagelocal.store.models.s3 import S3Object

_SELF_COPY = (
    "This copy request is illegal because it is trying to copy an object to itself without changing the "
    "object's metadata, storage class, website redirect location or encryption attributes."
)


@dataclass
class Source:
    """A copy source object as read (a snapshot of its row)."""

    bucket: str
    key: str
    blob_id: str
    size: int
    etag: str
    last_modified: datetime
    checksums: dict[str, str]
    parts_count: int | None
    part_sizes: list[int] | None
    tags: dict[str, str]
    attrs: dict[str, Any]


def parse_copy_source(text: str) -> tuple[str, str]:
    """`x-amz-copy-source` (`[/]bucket/key[?versionId=v]`, URL-encoded) as (bucket, key)."""
    raw, _, query = text.partition("?")
    if query:
        version = unquote(query.partition("versionId=")[2]) if query.startswith("versionId=") else None
        if version not in (None, "null"):
            raise invalid_argument("Invalid version id specified", "x-amz-copy-source", text)
    raw = raw.lstrip("/")
    bucket, _, key = raw.partition("/")
    if not bucket:
        raise invalid_argument("Invalid copy source bucket name", "x-amz-copy-source", text)
    key = unquote(key)
    if not key:
        raise invalid_argument("Invalid copy source object key", "x-amz-copy-source", text)
    return unquote(bucket), key


def copy_conditions(src: Source, params: dict[str, Any]) -> None:
    evaluate_conditions(
        src.etag,
        src.last_modified,
        params.get("CopySourceIfMatch"),
        params.get("CopySourceIfNoneMatch"),
        params.get("CopySourceIfModifiedSince"),
        params.get("CopySourceIfUnmodifiedSince"),
        copy_source=True,
    )


class CopyOps(S3Base):
    """Server-side copies."""

    def read_source(self, ctx: RequestContext, params: dict[str, Any]) -> Source:
        bucket, key = parse_copy_source(params["CopySource"])
        source_params = {"Bucket": bucket, "ExpectedBucketOwner": params.get("ExpectedSourceBucketOwner")}
        with self.db.read() as s:
            get_bucket(s, ctx, source_params)
            obj = get_object(s, bucket, key)
            return Source(
                bucket=bucket,
                key=key,
                blob_id=obj.blob_id,
                size=obj.size,
                etag=obj.etag,
                last_modified=obj.last_modified,
                checksums=dict(obj.checksums or {}),
                parts_count=obj.parts_count,
                part_sizes=list(obj.part_sizes) if obj.part_sizes else None,
                tags=dict(obj.tags or {}),
                attrs=attrs_of(obj),
            )

    def copy_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket_name, key = params["Bucket"], params["Key"]
        check_key(key)
        metadata_directive = params.get("MetadataDirective") or "COPY"
        tagging_directive = params.get("TaggingDirective") or "COPY"
        if metadata_directive not in ("COPY", "REPLACE"):
            raise invalid_argument(
                "Unknown metadata directive.", "x-amz-metadata-directive", metadata_directive
            )
        if tagging_directive not in ("COPY", "REPLACE"):
            raise invalid_argument("Unknown tagging directive.", "x-amz-tagging-directive", tagging_directive)
        with self.db.read() as s:
            get_bucket(s, ctx, params)
        for _ in range(5):  # the source may be overwritten between reading its row and linking its blob
            src = self.read_source(ctx, params)
            copy_conditions(src, params)
            changed = (
                metadata_directive == "REPLACE"
                or params.get("StorageClass") is not None
                or params.get("WebsiteRedirectLocation") is not None
                or params.get("ServerSideEncryption") is not None
                or params.get("ChecksumAlgorithm") is not None
            )
            if (src.bucket, src.key) == (bucket_name, key) and not changed:
                raise invalid_request(_SELF_COPY)
            if metadata_directive == "REPLACE":
                attrs = write_attrs(params)
            else:
                attrs = dict(src.attrs)
                if params.get("StorageClass") is not None:
                    attrs["storage_class"] = write_attrs(params)["storage_class"]
                if params.get("WebsiteRedirectLocation") is not None:
                    attrs["website_redirect"] = params["WebsiteRedirectLocation"]
            tags = tags_from_header(params.get("Tagging")) if tagging_directive == "REPLACE" else src.tags
            try:
                blob_id = self.blobs.clone(src.blob_id)
            except FileNotFoundError:
                continue
            break
        else:  # pragma: no cover - a source rewritten five times in a row
            raise invalid_request("The source object changed during the copy; please retry.")
        try:
            checksums = self._copy_checksums(src, blob_id, params)
            with self.db.write() as s:
                get_bucket(s, ctx, params)
                current = write_conditions(s, bucket_name, key, params)
                old_blob = current.blob_id if current is not None else None
                obj = current or S3Object(bucket=bucket_name, key=key)
                for col, value in attrs.items():
                    setattr(obj, col, value)
                obj.blob_id, obj.size, obj.etag = blob_id, src.size, src.etag
                obj.last_modified = now_ms(ctx)
                obj.checksums, obj.tags = checksums, tags
                obj.parts_count, obj.part_sizes = src.parts_count, src.part_sizes
                if current is None:
                    s.add(obj)
                last_modified = obj.last_modified
        except BaseException:
            self.delete_blobs_later([blob_id])
            raise
        self.delete_blobs_later([old_blob])
        result: dict[str, Any] = {"ETag": src.etag, "LastModified": last_modified}
        result.update(checksum_output(checksums))
        return {"CopyObjectResult": result}

    def _copy_checksums(self, src: Source, blob_id: str, params: dict[str, Any]) -> dict[str, str]:
        """The source's checksums, or a new full-object one when the copy asks for an algorithm."""
        algorithm, _ = requested_checksum({"ChecksumAlgorithm": params.get("ChecksumAlgorithm")})
        if algorithm is None:
            return dict(src.checksums)
        if algorithm in src.checksums and src.checksums.get("type", "FULL_OBJECT") == "FULL_OBJECT":
            return dict(src.checksums)
        return {algorithm: file_checksum(self.blobs.path(blob_id), algorithm), "type": "FULL_OBJECT"}
