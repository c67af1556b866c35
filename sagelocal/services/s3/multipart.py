"""Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts.

Parts are blobs of their own. Completion streams the listed parts into one new blob (fsync'd),
then, in one transaction, writes the object row and drops the upload; the part blobs go after the
commit. A crash before that commit leaves the upload as it was (the new blob is an orphan that
`recover()` removes); after it, the whole object is there.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import delete, select

from sagelocal.blobs.spool import SpooledBody
from sagelocal.services.base import RequestContext, ServiceError
from sagelocal.services.s3.attrs import write_attrs
from sagelocal.services.s3.checksums import (
    CRC_ALGORITHMS,
    body_checksum,
    combine_full,
    composite,
    requested_checksum,
    verify_body,
)
from sagelocal.services.s3.common import (
    MAX_PARTS,
    MIN_PART_SIZE,
    S3Base,
    check_key,
    get_bucket,
    get_upload,
    invalid_argument,
    invalid_request,
    now_ms,
    quote_etag,
)
from sagelocal.services.s3.copy import CopyOps, copy_conditions
from sagelocal.services.s3.objects import ObjectOps, checksum_output, write_conditions
from sagelocal.services.s3.tagging import tags_from_header
from sagelocal.store.models.s3 import S3MultipartUpload, S3Object, S3Part

_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


def _part_number(params: dict[str, Any]) -> int:
    n = params["PartNumber"]
    if not 1 <= n <= MAX_PARTS:
        raise invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber", n
        )
    return n


def _checksum_type(algorithm: str | None, requested: str | None) -> str | None:
    if requested is not None and algorithm is None:
        raise invalid_request(
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
        )
    if algorithm is None:
        return None
    kind = requested or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
    if (
        kind not in ("COMPOSITE", "FULL_OBJECT")
        or (kind == "FULL_OBJECT" and algorithm not in CRC_ALGORITHMS)
        or (kind == "COMPOSITE" and algorithm == "CRC64NVME")
    ):
        raise invalid_request(
            f"The {kind} checksum type cannot be used with the {algorithm.lower()} checksum algorithm."
        )
    return kind


def _invalid_part(upload_id: str, number: int, etag: str | None) -> ServiceError:
    return ServiceError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, "
        "or the specified entity tag may not match the part's entity tag.",
        400,
        fields={"UploadId": upload_id, "PartNumber": number, "ETag": etag},
    )


class MultipartOps(ObjectOps, CopyOps, S3Base):
    """The multipart upload API."""

    def create_multipart_upload(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check_key(params["Key"])
        attrs = write_attrs(params)
        tags = tags_from_header(params.get("Tagging"))
        algorithm, _ = requested_checksum({"ChecksumAlgorithm": params.get("ChecksumAlgorithm")})
        kind = _checksum_type(algorithm, params.get("ChecksumType"))
        upload_id = secrets.token_urlsafe(48)
        storage_class = attrs.pop("storage_class")
        metadata = attrs.pop("metadata_")
        expires = attrs.pop("expires")
        attrs["expires"] = expires.isoformat() if expires is not None else None
        with self.db.write() as s:
            get_bucket(s, ctx, params)
            s.add(
                S3MultipartUpload(
                    upload_id=upload_id,
                    bucket=params["Bucket"],
                    key=params["Key"],
                    initiated=now_ms(ctx),
                    account_id=ctx.account_id,
                    initiator_arn=ctx.principal.arn if ctx.principal is not None else "",
                    storage_class=storage_class,
                    headers=attrs,
                    metadata_=metadata,
                    tags=tags,
                    checksum_algorithm=algorithm,
                    checksum_type=kind,
                )
            )
        out: dict[str, Any] = {"Bucket": params["Bucket"], "Key": params["Key"], "UploadId": upload_id}
        if algorithm:
            out["ChecksumAlgorithm"] = algorithm
            out["ChecksumType"] = kind
        return out

    # ---- parts ------------------------------------------------------------------------------

    def upload_part(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        body = self.spool(params)
        try:
            number = _part_number(params)
            with self.db.read() as s:
                get_bucket(s, ctx, params)
                upload = get_upload(s, params)
                algorithm = upload.checksum_algorithm
            checksums = verify_body(params, body)
            if algorithm and algorithm not in checksums:
                checksums[algorithm] = body_checksum(body, algorithm)
            etag, _ = self._store_part(ctx, params, number, body, checksums)
        finally:
            body.discard()
        out: dict[str, Any] = {"ETag": etag}
        out.update({f"Checksum{a}": v for a, v in checksums.items()})
        return out

    def upload_part_copy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = _part_number(params)
        with self.db.read() as s:
            get_bucket(s, ctx, params)
            algorithm = get_upload(s, params).checksum_algorithm
        src = self.read_source(ctx, params)
        copy_conditions(src, params)
        start, end = 0, src.size - 1
        text = params.get("CopySourceRange")
        if text:
            m = _COPY_RANGE.match(text.strip())
            if m is None:
                raise invalid_argument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and "
                    "last are the zero-based offsets of the first and last bytes to copy",
                    "x-amz-copy-source-range",
                    text,
                )
            start, end = int(m.group(1)), int(m.group(2))
            if end < start or end >= src.size:
                raise invalid_argument(
                    f"Range specified is not valid for source object of size: {src.size}",
                    "x-amz-copy-source-range",
                    text,
                )
        body = SpooledBody(self.blobs.tmp_dir, (algorithm,) if algorithm else (), want_sha256=False)
        try:
            if end >= start:
                for chunk in self.blobs.read_range(src.blob_id, start, end):
                    body.write(chunk)
            body.finish()
            checksums = {algorithm: body_checksum(body, algorithm)} if algorithm else {}
            etag, last_modified = self._store_part(ctx, params, number, body, checksums)
        finally:
            body.discard()
        result: dict[str, Any] = {"ETag": etag, "LastModified": last_modified}
        result.update({f"Checksum{a}": v for a, v in checksums.items()})
        return {"CopyPartResult": result}

    def _store_part(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        number: int,
        body: SpooledBody,
        checksums: dict[str, str],
    ) -> tuple[str, datetime]:
        """Adopt a part's body and record it (replacing an earlier upload of the same number)."""
        etag = quote_etag(body.md5_hex)
        blob_id = self.blobs.adopt(body)
        try:
            with self.db.write() as s:
                get_upload(s, params)
                part = s.get(S3Part, (params["UploadId"], number))
                old_blob = part.blob_id if part is not None else None
                if part is None:
                    part = S3Part(upload_id=params["UploadId"], part_number=number)
                    s.add(part)
                part.blob_id, part.size, part.etag = blob_id, body.size, etag
                part.checksums, part.last_modified = checksums, now_ms(ctx)
                last_modified = part.last_modified
        except BaseException:
            self.delete_blobs_later([blob_id])
            raise
        self.delete_blobs_later([old_blob])
        return etag, last_modified

    # ---- completion -------------------------------------------------------------------------

    def complete_multipart_upload(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        upload_id, bucket_name, key = params["UploadId"], params["Bucket"], params["Key"]
        listed = (params.get("MultipartUpload") or {}).get("Parts") or []
        with self.db.read() as s:
            get_bucket(s, ctx, params)
            upload = get_upload(s, params)
            parts = {p.part_number: p for p in s.scalars(select(S3Part).where(S3Part.upload_id == upload_id))}
        if not listed:
            raise invalid_request("You must specify at least one part")
        numbers = [p.get("PartNumber") for p in listed]
        if any(n is None for n in numbers) or any(b <= a for a, b in itertools.pairwise(numbers)):
            raise ServiceError(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
                400,
                fields={"UploadId": upload_id},
            )
        chosen: list[S3Part] = []
        algorithm = upload.checksum_algorithm
        for i, item in enumerate(listed):
            part = parts.get(item["PartNumber"])
            given = item.get("ETag")
            if part is None or given is None or given.strip().strip('"') != part.etag.strip('"'):
                raise _invalid_part(upload_id, item["PartNumber"], given)
            for alg in ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"):
                value = item.get(f"Checksum{alg}")
                if value is not None and part.checksums.get(alg) not in (None, value):
                    raise _invalid_part(upload_id, item["PartNumber"], given)
            if i < len(listed) - 1 and part.size < MIN_PART_SIZE:
                raise ServiceError(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size.",
                    400,
                    fields={
                        "ProposedSize": part.size,
                        "MinSizeAllowed": MIN_PART_SIZE,
                        "PartNumber": part.part_number,
                        "ETag": part.etag,
                    },
                )
            chosen.append(part)
        total = sum(p.size for p in chosen)
        expected_size = params.get("MpuObjectSize")
        if expected_size is not None and expected_size != total:
            raise invalid_request(
                f"The provided 'x-amz-mp-object-size' header value {expected_size} does not match what was computed: {total}"
            )
        md5s = b"".join(bytes.fromhex(p.etag.strip('"')) for p in chosen)
        etag = f'"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"'
        checksums: dict[str, str] = {}
        if algorithm:
            kind = upload.checksum_type or "COMPOSITE"
            values = [p.checksums.get(algorithm) for p in chosen]
            if all(values):
                if kind == "FULL_OBJECT":
                    value = combine_full(
                        algorithm, [(v, p.size) for v, p in zip(values, chosen, strict=True)]
                    )
                else:
                    value = composite(algorithm, values)  # type: ignore[arg-type]
                if value is not None:
                    checksums = {algorithm: value, "type": kind}
        concat = self.blobs.concat([p.blob_id for p in chosen])
        try:
            blob_id = self.blobs.adopt(concat)
        except BaseException:
            concat.discard()
            raise
        try:
            with self.db.write() as s:
                get_bucket(s, ctx, params)
                upload = get_upload(s, params)
                current_parts = {
                    p.part_number: p for p in s.scalars(select(S3Part).where(S3Part.upload_id == upload_id))
                }
                for p in chosen:  # a part re-uploaded meanwhile changes what the client listed
                    now = current_parts.get(p.part_number)
                    if now is None or now.blob_id != p.blob_id:
                        raise _invalid_part(upload_id, p.part_number, p.etag)
                current = write_conditions(s, bucket_name, key, params)
                old_blob = current.blob_id if current is not None else None
                obj = current or S3Object(bucket=bucket_name, key=key)
                self._apply_upload(obj, upload)
                obj.blob_id, obj.size, obj.etag = blob_id, total, etag
                obj.last_modified = now_ms(ctx)
                obj.checksums = checksums
                obj.parts_count, obj.part_sizes = len(chosen), [p.size for p in chosen]
                if current is None:
                    s.add(obj)
                part_blobs = [p.blob_id for p in current_parts.values()]
                s.execute(delete(S3Part).where(S3Part.upload_id == upload_id))
                s.execute(delete(S3MultipartUpload).where(S3MultipartUpload.upload_id == upload_id))
        except BaseException:
            self.delete_blobs_later([blob_id])
            raise
        self.delete_blobs_later([old_blob, *part_blobs])
        out: dict[str, Any] = {
            "Location": f"/{bucket_name}/{quote(key)}",
            "Bucket": bucket_name,
            "Key": key,
            "ETag": etag,
        }
        out.update(checksum_output(checksums))
        return out

    @staticmethod
    def _apply_upload(obj: S3Object, upload: S3MultipartUpload) -> None:
        headers = dict(upload.headers or {})
        expires = headers.pop("expires", None)
        for col, value in headers.items():
            setattr(obj, col, value)
        obj.expires = datetime.fromisoformat(expires) if expires else None
        obj.metadata_ = dict(upload.metadata_ or {})
        obj.tags = dict(upload.tags or {})
        obj.storage_class = upload.storage_class

    def abort_multipart_upload(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.write() as s:
            get_bucket(s, ctx, params)
            upload = get_upload(s, params)
            blobs = list(s.scalars(select(S3Part.blob_id).where(S3Part.upload_id == upload.upload_id)))
            s.execute(delete(S3Part).where(S3Part.upload_id == upload.upload_id))
            s.delete(upload)
        self.delete_blobs_later(blobs)
        return {}
