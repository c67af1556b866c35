"""ListObjects (v1) and ListObjectsV2: keyset range scans over the (bucket, key) index.

Keys compare in UTF-8 byte order (= code-point order). With a delimiter, a key whose remainder
after the prefix contains the delimiter rolls up into a common prefix; the scan then jumps past
every key under that prefix (`successor`) instead of reading them, so a page costs one query per
common prefix plus one per 1000 keys, whatever the bucket's size.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sagelocal.services.base import RequestContext
from sagelocal.services.s3.common import (
    S3Base,
    get_bucket,
    invalid_argument,
    max_keys,
    owner,
    successor,
    url_encoder,
)
from sagelocal.store.models.s3 import S3Object

_COLUMNS = (
    S3Object.key,
    S3Object.size,
    S3Object.etag,
    S3Object.last_modified,
    S3Object.storage_class,
    S3Object.checksums,
)
_BATCH = 1000


@dataclass
class Page:
    """One page of a listing: objects (rows) and common prefixes, in order."""

    contents: list[Any] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    last: str | None = None  # the last key or common prefix returned
    truncated: bool = False


def _rollup(key: str, prefix: str, delimiter: str | None) -> str | None:
    """The common prefix `key` rolls up into, if any."""
    if not delimiter:
        return None
    i = key.find(delimiter, len(prefix))
    return None if i < 0 else key[: i + len(delimiter)]


def scan(s: Session, bucket: str, prefix: str, delimiter: str | None, after: str | None, limit: int) -> Page:
    """Up to `limit` entries (keys and common prefixes) after `after`, and whether more exist."""
    page = Page()
    lower_incl: str | None = None
    lower_excl = after
    if after is not None and after.startswith(prefix):
        cp = _rollup(after, prefix, delimiter)
        if cp is not None:  # resuming inside a common prefix already returned: skip all of it
            lower_incl, lower_excl = successor(cp), None
            if lower_incl is None:
                return page
    if prefix and (lower_excl is None or lower_excl < prefix) and (lower_incl is None or lower_incl < prefix):
        lower_incl, lower_excl = prefix, None
    upper = successor(prefix) if prefix else None
    count = 0
    while True:
        conds = [S3Object.bucket == bucket]
        if lower_incl is not None:
            conds.append(S3Object.key >= lower_incl)
        if lower_excl is not None:
            conds.append(S3Object.key > lower_excl)
        if upper is not None:
            conds.append(S3Object.key < upper)
        want = min(limit - count, _BATCH) + 1  # one more than needed tells whether more exist
        rows = s.execute(select(*_COLUMNS).where(*conds).order_by(S3Object.key).limit(want)).all()
        jumped = False
        for row in rows:
            if count >= limit:
                page.truncated = True
                return page
            count += 1
            cp = _rollup(row.key, prefix, delimiter)
            if cp is not None:
                page.prefixes.append(cp)
                page.last = cp
                nxt = successor(cp)
                if nxt is None:
                    return page
                lower_incl, lower_excl = nxt, None
                jumped = True
                break
            page.contents.append(row)
            page.last = row.key
            lower_incl, lower_excl = None, row.key
        if not jumped and len(rows) < want:
            return page


def _content(row: Any, encode: Callable[[str], str], with_owner: bool, account_id: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "Key": encode(row.key),
        "LastModified": row.last_modified,
        "ETag": row.etag,
        "Size": row.size,
        "StorageClass": row.storage_class or "STANDARD",
    }
    checksums = row.checksums or {}
    algorithms = [a for a in checksums if a != "type"]
    if algorithms:
        item["ChecksumAlgorithm"] = algorithms
        item["ChecksumType"] = checksums.get("type", "FULL_OBJECT")
    if with_owner:
        item["Owner"] = owner(account_id)
    return item


def encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(b"1:" + last.encode("utf-8", "surrogatepass")).decode()


def decode_token(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        if not raw.startswith(b"1:"):
            raise ValueError(token)
        return raw[2:].decode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError, UnicodeError):
        raise invalid_argument(
            "The continuation token provided is incorrect", "continuation-token", token
        ) from None


class ListingOps(S3Base):
    """Object listings."""

    def list_objects_v2(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        encode = url_encoder(params)
        limit = max_keys(params)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or None
        token = params.get("ContinuationToken")
        start_after = params.get("StartAfter")
        after = decode_token(token) if token else start_after
        with self.db.read() as s:
            bucket = get_bucket(s, ctx, params)
            page = scan(s, bucket.name, prefix, delimiter, after, limit) if limit else Page()
            account = bucket.account_id
        out: dict[str, Any] = {
            "Name": params["Bucket"],
            "Prefix": encode(prefix),
            "MaxKeys": limit,
            "KeyCount": len(page.contents) + len(page.prefixes),
            "IsTruncated": page.truncated,
        }
        fetch_owner = bool(params.get("FetchOwner"))
        if page.contents:
            out["Contents"] = [_content(r, encode, fetch_owner, account) for r in page.contents]
        if page.prefixes:
            out["CommonPrefixes"] = [{"Prefix": encode(p)} for p in page.prefixes]
        if delimiter:
            out["Delimiter"] = encode(delimiter)
        if params.get("EncodingType"):
            out["EncodingType"] = params["EncodingType"]
        if token:
            out["ContinuationToken"] = token
        if start_after:
            out["StartAfter"] = encode(start_after)
        if page.truncated and page.last is not None:
            out["NextContinuationToken"] = encode_token(page.last)
        return out

    def list_objects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        encode = url_encoder(params)
        limit = max_keys(params)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or None
        marker = params.get("Marker") or None
        with self.db.read() as s:
            bucket = get_bucket(s, ctx, params)
            page = scan(s, bucket.name, prefix, delimiter, marker, limit) if limit else Page()
            account = bucket.account_id
        out: dict[str, Any] = {
            "Name": params["Bucket"],
            "Prefix": prefix,
            "Marker": encode(marker or ""),
            "MaxKeys": limit,
            "IsTruncated": page.truncated,
        }
        if page.contents:
            out["Contents"] = [_content(r, encode, True, account) for r in page.contents]
        if page.prefixes:
            out["CommonPrefixes"] = [{"Prefix": encode(p)} for p in page.prefixes]
        if delimiter:
            out["Delimiter"] = encode(delimiter)
            if page.truncated and page.last is not None:
                out["NextMarker"] = encode(page.last)
        if params.get("EncodingType"):
            out["EncodingType"] = params["EncodingType"]
        return out
