"""Object attributes: what a write stores (content headers, user metadata, storage class) and what a
read answers (the same as response headers, `response-*` overrides, checksums, ranges)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sagelocal.services.base import ServiceError
from sagelocal.services.s3.common import DEFAULT_CONTENT_TYPE
from sagelocal.store.models.s3 import S3Object

MAX_METADATA_BYTES = 2048
STORAGE_CLASSES = {
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
    "FSX_OPENZFS",
}
# Stored column -> the input/output member naming it.
CONTENT_FIELDS = {
    "content_type": "ContentType",
    "content_encoding": "ContentEncoding",
    "content_disposition": "ContentDisposition",
    "content_language": "ContentLanguage",
    "cache_control": "CacheControl",
    "website_redirect": "WebsiteRedirectLocation",
}
_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseCacheControl": "CacheControl",
    "ResponseExpires": "Expires",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def write_attrs(params: dict[str, Any]) -> dict[str, Any]:
    """The stored attributes a PutObject/CopyObject(REPLACE)/CreateMultipartUpload request sets."""
    metadata = {k.lower(): v for k, v in (params.get("Metadata") or {}).items()}
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise ServiceError(
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size",
            400,
            fields={"Size": size, "MaxSizeAllowed": MAX_METADATA_BYTES},
        )
    storage_class = params.get("StorageClass") or "STANDARD"
    if storage_class not in STORAGE_CLASSES:
        raise ServiceError(
            "InvalidStorageClass",
            "The storage class you specified is not valid",
            400,
            fields={"StorageClassRequested": storage_class},
        )
    out: dict[str, Any] = {col: params.get(member) for col, member in CONTENT_FIELDS.items()}
    if out["content_type"] is None:
        out["content_type"] = DEFAULT_CONTENT_TYPE
    out["expires"] = params.get("Expires")
    out["metadata_"] = metadata
    out["storage_class"] = storage_class
    return out


def attrs_of(obj: S3Object) -> dict[str, Any]:
    """The stored attributes of an existing object (what CopyObject's COPY directive keeps)."""
    out = {col: getattr(obj, col) for col in CONTENT_FIELDS}
    out["expires"] = obj.expires
    out["metadata_"] = dict(obj.metadata_ or {})
    out["storage_class"] = obj.storage_class
    return out


def read_headers(
    obj: S3Object, params: dict[str, Any], *, whole: bool, with_tag_count: bool
) -> dict[str, Any]:
    """The GetObject/HeadObject output members describing `obj` (everything but Body and ranges)."""
    out: dict[str, Any] = {
        "ETag": obj.etag,
        "LastModified": obj.last_modified,
        "ContentLength": obj.size,
        "AcceptRanges": "bytes",
    }
    for col, member in CONTENT_FIELDS.items():
        value = getattr(obj, col)
        if value is not None:
            out[member] = value
    if obj.expires is not None:
        out["Expires"] = obj.expires
    if obj.metadata_:
        out["Metadata"] = dict(obj.metadata_)
    if obj.storage_class and obj.storage_class != "STANDARD":
        out["StorageClass"] = obj.storage_class
    if with_tag_count and obj.tags:
        out["TagCount"] = len(obj.tags)
    for param, member in _OVERRIDES.items():
        if params.get(param) is not None:
            out[member] = params[param]
    if whole and (params.get("ChecksumMode") or "").upper() == "ENABLED" and obj.checksums:
        for algorithm, value in obj.checksums.items():
            if algorithm != "type":
                out[f"Checksum{algorithm}"] = value
        out["ChecksumType"] = obj.checksums.get("type", "FULL_OBJECT")
    return out


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a `Range` header selects; None for the whole object (no header, or
    a form S3 ignores: malformed, several ranges). Unsatisfiable ranges raise InvalidRange."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last n bytes
        n = int(last)
        if n == 0 or size == 0:
            raise invalid_range(header, size)
        return max(0, size - n), size - 1
    start = int(first)
    end = size - 1 if last == "" else int(last)
    if last != "" and end < start:
        return None
    if start >= size:
        raise invalid_range(header, size)
    return start, min(end, size - 1)


def invalid_range(header: str, size: int) -> ServiceError:
    return ServiceError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        fields={"RangeRequested": header, "ActualObjectSize": size},
        headers={"Content-Range": f"bytes */{size}"},
    )


def part_range(obj: S3Object, part_number: int) -> tuple[int, int]:
    """The byte range of part `part_number` of an object (a non-multipart object has one part)."""
    sizes = obj.part_sizes or [obj.size]
    if not 1 <= part_number <= len(sizes):
        raise ServiceError(
            "InvalidPartNumber",
            "The requested partnumber is not satisfiable",
            416,
            fields={"PartNumberRequested": part_number, "ActualPartCount": len(sizes)},
        )
    start = sum(sizes[: part_number - 1])
    return start, start + sizes[part_number - 1] - 1


def expires_text(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
