"""What the S3 operations share: errors worded as S3 words them, bucket look-ups, owners, times,
ETag matching, key rules and `encoding-type=url`."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, ClassVar
from urllib.parse import quote_plus

from sqlalchemy.orm import Session

from sagelocal.blobs.store import BlobStore
from sagelocal.services.base import Provider, RequestContext, ServiceError
from sagelocal.store.db import Database
from sagelocal.store.models.s3 import S3Bucket, S3MultipartUpload, S3Object

MAX_KEY_BYTES = 1024
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000


# ---- errors ------------------------------------------------------------------------------------


def no_such_bucket(name: str) -> ServiceError:
    return ServiceError(
        "NoSuchBucket", "The specified bucket does not exist.", 404, fields={"BucketName": name}
    )


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
        "aborted or completed.",
        404,
        fields={"UploadId": upload_id},
    )


def invalid_argument(message: str, name: str | None = None, value: Any = None) -> ServiceError:
    fields = {} if name is None else {"ArgumentName": name, "ArgumentValue": value}
    return ServiceError("InvalidArgument", message, 400, fields=fields)


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )


def access_denied() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", 403)


# ---- buckets and owners ------------------------------------------------------------------------


def canonical_id(account_id: str) -> str:
    """A stable 64-hex canonical user id for an account (what S3 calls the Owner ID)."""
    return hashlib.sha256(f"sagelocal-canonical:{account_id}".encode()).hexdigest()


def owner(account_id: str) -> dict[str, str]:
    return {"ID": canonical_id(account_id)}


def get_bucket(s: Session, ctx: RequestContext, params: dict[str, Any], *, lock: bool = False) -> S3Bucket:
    """The named bucket, checking `ExpectedBucketOwner` (403 AccessDenied on a mismatch)."""
    name = params["Bucket"]
    bucket = s.get(S3Bucket, name, with_for_update=lock or None)
    if bucket is None:
        raise no_such_bucket(name)
    expected = params.get("ExpectedBucketOwner")
    if expected is not None and expected != bucket.account_id:
        raise access_denied()
    return bucket


def get_object(s: Session, bucket: str, key: str) -> S3Object:
    obj = s.get(S3Object, (bucket, key))
    if obj is None:
        raise no_such_key(key)
    return obj


def get_upload(s: Session, params: dict[str, Any]) -> S3MultipartUpload:
    """The multipart upload `UploadId` names, which must belong to `Bucket`/`Key`."""
    upload = s.get(S3MultipartUpload, params["UploadId"])
    if upload is None or upload.bucket != params["Bucket"] or upload.key != params["Key"]:
        raise no_such_upload(params["UploadId"])
    return upload


def check_key(key: str) -> None:
    """S3's key rule: at most 1024 bytes of UTF-8."""
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise ServiceError(
            "KeyTooLongError",
            "Your key is too long",
            400,
            fields={"MaxSizeAllowed": MAX_KEY_BYTES, "Size": size},
        )


# ---- times and ETags ---------------------------------------------------------------------------


def now_ms(ctx: RequestContext | None = None) -> datetime:
    """The current time (the request's), truncated to milliseconds as S3 keeps it."""
    t = ctx.received_at if ctx is not None else datetime.now(UTC)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).replace(microsecond=(t.microsecond // 1000) * 1000)


def http_date(t: datetime) -> str:
    return format_datetime(t.astimezone(UTC).replace(microsecond=0), usegmt=True)


def quote_etag(md5_hex: str) -> str:
    return f'"{md5_hex}"'


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match header value (a list, `*`, quoted or not) names `etag`."""
    bare = etag.strip('"')
    for item in header.split(","):
        item = item.strip()
        if item.startswith("W/"):
            item = item[2:]
        if item == "*" or item.strip('"') == bare:
            return True
    return False


def seconds(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(microsecond=0)


def evaluate_conditions(
    etag: str,
    last_modified: datetime,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | None,
    if_unmodified_since: datetime | None,
    *,
    copy_source: bool = False,
) -> None:
    """S3's precedence (RFC 7232): If-Match, else If-Unmodified-Since → 412; If-None-Match, else
    If-Modified-Since → 304 (412 for copy sources, whose every failed condition is a 412)."""
    lm = seconds(last_modified)
    prefix = "x-amz-copy-source-" if copy_source else ""
    if if_match is not None:
        if not etag_matches(if_match, etag):
            raise precondition_failed(f"{prefix}If-Match")
    elif if_unmodified_since is not None and lm > seconds(if_unmodified_since):
        raise precondition_failed(f"{prefix}If-Unmodified-Since")
    not_modified: str | None = None
    if if_none_match is not None:
        if etag_matches(if_none_match, etag):
            not_modified = "If-None-Match"
    elif if_modified_since is not None and lm <= seconds(if_modified_since):
        not_modified = "If-Modified-Since"
    if not_modified is None:
        return
    if copy_source:
        raise precondition_failed(f"{prefix}{not_modified}")
    raise ServiceError(
        "NotModified",
        "Not Modified",
        304,
        headers={"ETag": etag, "Last-Modified": http_date(last_modified)},
    )


# ---- encoding-type=url -------------------------------------------------------------------------


def url_encoder(params: dict[str, Any]) -> Any:
    """A function applied to keys in a listing: URL-encoding when `EncodingType=url`, else identity."""
    encoding = params.get("EncodingType")
    if encoding is None:
        return lambda text: text
    if encoding != "url":
        raise invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", encoding)
    return lambda text: quote_plus(text, safe="/") if text is not None else None


def max_keys(params: dict[str, Any], name: str = "MaxKeys", wire: str = "max-keys", cap: int = 1000) -> int:
    value = params.get(name)
    if value is None:
        return cap
    if value < 0:
        raise invalid_argument("Argument maxKeys must be an integer between 0 and 2147483647", wire, value)
    return min(value, cap)


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (code-point order, which
    is UTF-8 byte order); None when there is none."""
    chars = list(prefix)
    while chars:
        cp = ord(chars[-1])
        if cp < 0x10FFFF:
            nxt = cp + 1
            if 0xD800 <= nxt <= 0xDFFF:
                nxt = 0xE000
            chars[-1] = chr(nxt)
            return "".join(chars)
        chars.pop()
    return None


# ---- the provider's shared state ---------------------------------------------------------------


class S3Base(Provider):
    """The state every S3 mixin works on: the metadata store and the blob store."""

    service_name: ClassVar[str] = "s3"

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs

    def delete_blobs_later(self, blob_ids: list[str | None]) -> None:
        """Remove blobs no longer referenced once the transaction that dropped them committed.
        A failure here only leaves an orphan, which `recover()` removes on the next start."""
        for blob_id in blob_ids:
            with contextlib.suppress(OSError):  # best effort
                self.blobs.delete(blob_id)
