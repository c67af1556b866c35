"""Objects: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects.

Write order (the durability rule): verify the spooled body, move it into the blob store (fsync'd),
then commit the row that points to it in one transaction; the replaced blob is deleted only after
that commit. Readers open the blob a row names; if a concurrent overwrite removed it in between,
they read the row again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, select

from sagelocal.blobs.spool import SpooledBody
from sagelocal.services.base import HTTP_STATUS, RequestContext, ServiceError
from sagelocal.services.s3.attrs import parse_range, part_range, read_headers, write_attrs
from sagelocal.services.s3.checksums import requested_checksum, verify_body
from sagelocal.services.s3.common import (
    S3Base,
    check_key,
    etag_matches,
    evaluate_conditions,
    get_bucket,
    get_object,
    invalid_argument,
    invalid_request,
    no_such_key,
    now_ms,
    precondition_failed,
    quote_etag,
)
from sagelocal.services.s3.tagging import tags_from_header
from sagelocal.store.models.s3 import S3Object

MAX_DELETE_KEYS = 1000
_OPEN_RETRIES = 5


def _check_version(params: dict[str, Any]) -> None:
    version = params.get("VersionId")
    if version not in (None, "null"):
        raise invalid_argument("Invalid version id specified", "versionId", version)


def checksum_output(checksums: dict[str, str]) -> dict[str, Any]:
    """The Checksum<ALG>/ChecksumType output members for stored checksums."""
    out: dict[str, Any] = {f"Checksum{a}": v for a, v in checksums.items() if a != "type"}
    if out:
        out["ChecksumType"] = checksums.get("type", "FULL_OBJECT")
    return out


def write_conditions(s: Any, bucket: str, key: str, params: dict[str, Any]) -> S3Object | None:
    """The current object, after checking a conditional write's If-Match / If-None-Match: *."""
    current = s.get(S3Object, (bucket, key))
    if_none_match = params.get("IfNoneMatch")
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise ServiceError(
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
                501,
                fields={"Header": "If-None-Match"},
            )
        if current is not None:
            raise precondition_failed("If-None-Match")
    if_match = params.get("IfMatch")
    if if_match is not None:
        if current is None:
            raise no_such_key(key)
        if not etag_matches(if_match, current.etag):
            raise precondition_failed("If-Match")
    return current


class ObjectOps(S3Base):
    """Single-object reads and writes, and batch delete."""

    # ---- bodies -----------------------------------------------------------------------------

    def spool(self, params: dict[str, Any], name: str = "Body") -> SpooledBody:
        """The request body as a finished SpooledBody (the gateway's, or one made from bytes)."""
        body = params.get(name)
        if isinstance(body, SpooledBody) or (hasattr(body, "path") and hasattr(body, "md5_hex")):
            return body  # type: ignore[return-value]
        algorithm, _ = requested_checksum(params)
        spooled = SpooledBody(self.blobs.tmp_dir, (algorithm,) if algorithm else ())
        try:
            if body is None:
                pass
            elif isinstance(body, bytes | bytearray | memoryview):
                spooled.write(bytes(body))
            elif hasattr(body, "read"):
                while chunk := body.read(1024 * 1024):
                    spooled.write(chunk)
            else:
                for chunk in body:
                    spooled.write(chunk)
            return spooled.finish()
        except BaseException:
            spooled.discard()
            raise

    # ---- PutObject --------------------------------------------------------------------------

    def put_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket_name, key = params["Bucket"], params["Key"]
        body = self.spool(params)
        try:
            check_key(key)
            with self.db.read() as s:
                get_bucket(s, ctx, params)
            attrs = write_attrs(params)
            tags = tags_from_header(params.get("Tagging"))
            checksums = verify_body(params, body)
            if checksums:
                checksums["type"] = "FULL_OBJECT"
            etag = quote_etag(body.md5_hex)
            size = body.size
            blob_id = self.blobs.adopt(body)
        except BaseException:
            body.discard()
            raise
        try:
            with self.db.write() as s:
                get_bucket(s, ctx, params)
                current = write_conditions(s, bucket_name, key, params)
                old_blob = current.blob_id if current is not None else None
                obj = current or S3Object(bucket=bucket_name, key=key)
                for col, value in attrs.items():
                    setattr(obj, col, value)
                obj.blob_id, obj.size, obj.etag = blob_id, size, etag
                obj.last_modified = now_ms(ctx)
                obj.checksums, obj.tags = checksums, tags
                obj.parts_count, obj.part_sizes = None, None
                if current is None:
                    s.add(obj)
        except BaseException:
            self.delete_blobs_later([blob_id])
            raise
        self.delete_blobs_later([old_blob])
        out: dict[str, Any] = {"ETag": etag, "Size": size}
        out.update(checksum_output(checksums))
        return out

    # ---- GetObject / HeadObject -------------------------------------------------------------

    def get_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._read(ctx, params, with_body=True)

    def head_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._read(ctx, params, with_body=False)

    def _read(self, ctx: RequestContext, params: dict[str, Any], *, with_body: bool) -> dict[str, Any]:
        _check_version(params)
        if params.get("PartNumber") is not None and params.get("Range"):
            raise invalid_request("Cannot specify both Range header and partNumber query parameter")
        for _ in range(_OPEN_RETRIES):
            with self.db.read() as s:
                get_bucket(s, ctx, params)
                obj = get_object(s, params["Bucket"], params["Key"])
            evaluate_conditions(
                obj.etag,
                obj.last_modified,
                params.get("IfMatch"),
                params.get("IfNoneMatch"),
                params.get("IfModifiedSince"),
                params.get("IfUnmodifiedSince"),
            )
            span: tuple[int, int] | None
            part_number = params.get("PartNumber")
            if part_number is not None:
                span = part_range(obj, part_number)
            else:
                span = parse_range(params.get("Range"), obj.size)
            out = read_headers(obj, params, whole=span is None, with_tag_count=with_body)
            if part_number is not None:
                out["PartsCount"] = obj.parts_count or 1
            if span is not None:
                start, end = span
                out["ContentLength"] = end - start + 1
                out["ContentRange"] = f"bytes {start}-{end}/{obj.size}"
                out[HTTP_STATUS] = 206
            if not with_body:
                return out
            start, end = span if span is not None else (0, obj.size - 1)
            try:
                out["Body"] = self._body(obj.blob_id, start, end)
            except FileNotFoundError:
                continue  # overwritten or deleted since we read the row: look again
            return out
        raise no_such_key(params["Key"])

    def _body(self, blob_id: str, start: int, end: int) -> Iterable[bytes]:
        if end < start:
            self.blobs.size(blob_id)  # raises FileNotFoundError like a real open would
            return iter(())
        chunks = self.blobs.read_range(blob_id, start, end)
        return chunks

    # ---- DeleteObject(s) --------------------------------------------------------------------

    def delete_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _check_version(params)
        bucket_name, key = params["Bucket"], params["Key"]
        with self.db.write() as s:
            get_bucket(s, ctx, params)
            obj = s.get(S3Object, (bucket_name, key))
            if params.get("IfMatch") is not None:
                if obj is None:
                    raise no_such_key(key)
                if not etag_matches(params["IfMatch"], obj.etag):
                    raise precondition_failed("If-Match")
            if (
                params.get("IfMatchSize") is not None
                and obj is not None
                and obj.size != params["IfMatchSize"]
            ):
                raise precondition_failed("x-amz-if-match-size")
            old_blob = obj.blob_id if obj is not None else None
            if obj is not None:
                s.delete(obj)
        self.delete_blobs_later([old_blob])
        return {}

    def delete_objects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        request = params.get("Delete") or {}
        entries = request.get("Objects") or []
        malformed = ServiceError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
            400,
        )
        if not entries or len(entries) > MAX_DELETE_KEYS:
            raise malformed
        quiet = bool(request.get("Quiet"))
        bucket_name = params["Bucket"]
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        old_blobs: list[str | None] = []
        with self.db.write() as s:
            get_bucket(s, ctx, params)
            wanted = [e["Key"] for e in entries if "Key" in e]
            rows = {
                o.key: o
                for chunk in _chunks(wanted, 500)
                for o in s.scalars(
                    select(S3Object).where(S3Object.bucket == bucket_name, S3Object.key.in_(chunk))
                )
            }
            gone: list[str] = []
            for entry in entries:
                key = entry.get("Key")
                if key is None:
                    raise malformed
                version = entry.get("VersionId")
                if version not in (None, "null"):
                    errors.append(
                        {
                            "Key": key,
                            "VersionId": version,
                            "Code": "NoSuchVersion",
                            "Message": "The specified version does not exist.",
                        }
                    )
                    continue
                obj = rows.pop(key, None)
                if (
                    obj is not None
                    and entry.get("ETag") is not None
                    and not etag_matches(entry["ETag"], obj.etag)
                ):
                    rows[key] = obj
                    errors.append(
                        {
                            "Key": key,
                            "Code": "PreconditionFailed",
                            "Message": "At least one of the pre-conditions you specified did not hold",
                        }
                    )
                    continue
                if obj is not None:
                    old_blobs.append(obj.blob_id)
                    gone.append(key)
                if not quiet:
                    deleted.append({"Key": key})
            for chunk in _chunks(gone, 500):
                s.execute(delete(S3Object).where(S3Object.bucket == bucket_name, S3Object.key.in_(chunk)))
        self.delete_blobs_later(old_blobs)
        out: dict[str, Any] = {}
        if deleted:
            out["Deleted"] = deleted
        if errors:
            out["Errors"] = errors
        return out


def _chunks(items: list[str], n: int) -> Iterator[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
