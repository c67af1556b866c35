"""ListParts and ListMultipartUploads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from sagelocal.services.base import RequestContext
from sagelocal.services.s3.common import (
    S3Base,
    get_bucket,
    get_upload,
    invalid_argument,
    max_keys,
    owner,
    successor,
    url_encoder,
)
from sagelocal.store.models.s3 import S3MultipartUpload, S3Part


def _initiator(upload: S3MultipartUpload) -> dict[str, str]:
    who = owner(upload.account_id)
    if upload.initiator_arn:
        who = {"ID": upload.initiator_arn, "DisplayName": upload.initiator_arn.rsplit("/", 1)[-1]}
    return who


class UploadListingOps(S3Base):
    """Listings of multipart uploads and their parts."""

    def list_parts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = max_keys(params, "MaxParts", "max-parts")
        marker = params.get("PartNumberMarker") or 0
        if marker < 0:
            raise invalid_argument(
                "Argument part-number-marker must be an integer between 0 and 2147483647",
                "part-number-marker",
                marker,
            )
        with self.db.read() as s:
            get_bucket(s, ctx, params)
            upload = get_upload(s, params)
            rows = list(
                s.scalars(
                    select(S3Part)
                    .where(S3Part.upload_id == upload.upload_id, S3Part.part_number > marker)
                    .order_by(S3Part.part_number)
                    .limit(limit + 1)
                )
            )
        truncated = len(rows) > limit
        rows = rows[:limit]
        out: dict[str, Any] = {
            "Bucket": params["Bucket"],
            "Key": params["Key"],
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": truncated,
            "Initiator": _initiator(upload),
            "Owner": owner(upload.account_id),
            "StorageClass": upload.storage_class,
            "Parts": [],
        }
        if rows:
            out["NextPartNumberMarker"] = rows[-1].part_number
        for part in rows:
            item: dict[str, Any] = {
                "PartNumber": part.part_number,
                "LastModified": part.last_modified,
                "ETag": part.etag,
                "Size": part.size,
            }
            item.update({f"Checksum{a}": v for a, v in (part.checksums or {}).items()})
            out["Parts"].append(item)
        if not out["Parts"]:
            del out["Parts"]
        if upload.checksum_algorithm:
            out["ChecksumAlgorithm"] = upload.checksum_algorithm
            out["ChecksumType"] = upload.checksum_type
        return out

    def list_multipart_uploads(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        encode = url_encoder(params)
        limit = max_keys(params, "MaxUploads", "max-uploads")
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or None
        key_marker = params.get("KeyMarker") or None
        id_marker = params.get("UploadIdMarker") or None
        U = S3MultipartUpload
        conds: list[Any] = [U.bucket == params["Bucket"]]
        if prefix:
            conds.append(U.key >= prefix)
            upper = successor(prefix)
            if upper is not None:
                conds.append(U.key < upper)
        with self.db.read() as s:
            get_bucket(s, ctx, params)
            if key_marker is not None:
                after = U.key > key_marker
                if id_marker is not None:
                    marker_row = s.get(U, id_marker)
                    if marker_row is not None and marker_row.key == key_marker:
                        after = or_(
                            after,
                            and_(
                                U.key == key_marker,
                                or_(
                                    U.initiated > marker_row.initiated,
                                    and_(U.initiated == marker_row.initiated, U.upload_id > id_marker),
                                ),
                            ),
                        )
                conds.append(after)
            query = select(U).where(*conds).order_by(U.key, U.initiated, U.upload_id)
            uploads: list[S3MultipartUpload] = []
            prefixes: list[str] = []
            truncated = False
            last_key: str | None = None
            last_id: str | None = None
            for row in s.scalars(query):
                cp = None
                if delimiter:
                    i = row.key.find(delimiter, len(prefix))
                    cp = row.key[: i + len(delimiter)] if i >= 0 else None
                if cp is not None and prefixes and prefixes[-1] == cp:
                    continue
                if len(uploads) + len(prefixes) >= limit:
                    truncated = True
                    break
                if cp is not None:
                    prefixes.append(cp)
                    last_key, last_id = cp, None
                else:
                    uploads.append(row)
                    last_key, last_id = row.key, row.upload_id
        out: dict[str, Any] = {
            "Bucket": params["Bucket"],
            "KeyMarker": encode(key_marker or ""),
            "UploadIdMarker": id_marker or "",
            "MaxUploads": limit,
            "IsTruncated": truncated,
            "Prefix": encode(prefix),
        }
        if truncated and last_key is not None:
            out["NextKeyMarker"] = encode(last_key)
            out["NextUploadIdMarker"] = last_id or ""
        if delimiter:
            out["Delimiter"] = encode(delimiter)
        if uploads:
            out["Uploads"] = [
                {
                    "UploadId": u.upload_id,
                    "Key": encode(u.key),
                    "Initiated": u.initiated,
                    "StorageClass": u.storage_class,
                    "Owner": owner(u.account_id),
                    "Initiator": _initiator(u),
                    **(
                        {"ChecksumAlgorithm": u.checksum_algorithm, "ChecksumType": u.checksum_type}
                        if u.checksum_algorithm
                        else {}
                    ),
                }
                for u in uploads
            ]
        if prefixes:
            out["CommonPrefixes"] = [{"Prefix": encode(p)} for p in prefixes]
        if params.get("EncodingType"):
            out["EncodingType"] = params["EncodingType"]
        return out
