"""Verify AWS Signature Version 4 on incoming requests: the Authorization header and presigned URLs.

`parse_signature` reads what the client claims (access key, scope, signed headers, signature) and
rejects a malformed claim; the gateway then looks the access key up and calls `verify_signature`
with its secret. The request time, S3's header rules and the payload hash are checked here; the
expected signature itself comes from botocore's canonicalization (`sigv4_canonical`). S3's legacy
SigV2 presigned URLs, which boto3 still makes by default, go through `sigv2`.

Streaming bodies (`Content-Encoding: aws-chunked`) are decoded and their chunk signatures checked by
`sagelocal.gateway.aws_chunked`; `verify_signature` checks only the seed signature for them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from functools import lru_cache
from urllib.parse import parse_qsl

from botocore.auth import UNSIGNED_PAYLOAD

from sagelocal.gateway.http import Headers, HttpRequest
from sagelocal.gateway.sigv2 import SigV2Info, is_presigned_v2, parse_presigned_v2, verify_presigned_v2
from sagelocal.gateway.sigv4_canonical import check_signature, signing_key
from sagelocal.gateway.sigv4_errors import AMZ_DATE_FORMAT, Family, SigV4Error, auth_error

__all__ = [
    "Family",
    "PayloadMode",
    "SigV2Info",
    "SigV4Error",
    "SignatureInfo",
    "auth_error",
    "parse_signature",
    "signing_key",
    "verify_payload_hash",
    "verify_signature",
]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_PRESIGN_EXPIRES = 604800  # a week: S3's limit on X-Amz-Expires
_HEX = frozenset("0123456789abcdefABCDEF")


class PayloadMode(StrEnum):
    """What the canonical request's payload hash is (from `x-amz-content-sha256`)."""

    BODY = "body"  # no header: the hash of the body
    SHA256 = "sha256"  # the header holds the body's hex SHA-256
    UNSIGNED = UNSIGNED_PAYLOAD
    STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

    @property
    def is_streaming(self) -> bool:
        """The body is aws-chunked (`aws_chunked` decodes it)."""
        return self.value.startswith("STREAMING-")

    @property
    def is_signed_streaming(self) -> bool:
        """Each chunk carries a signature chained from the seed signature."""
        return self.value.startswith("STREAMING-AWS4-HMAC")


_SENTINELS = {m.value: m for m in PayloadMode if m not in (PayloadMode.BODY, PayloadMode.SHA256)}


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """What a signed request claims, parsed and checked for shape but not yet verified."""

    family: Family
    access_key_id: str
    amz_date: str  # the timestamp in the string to sign, YYYYMMDDTHHMMSSZ
    date: datetime  # the same, aware UTC
    request_time: str  # the date as the client sent it (X-Amz-Date or Date header)
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    is_presigned: bool
    expires: int | None  # X-Amz-Expires, presigned only
    security_token: str | None
    content_sha256: str | None  # the x-amz-content-sha256 value as sent
    payload_mode: PayloadMode

    @property
    def scope(self) -> str:
        """The credential scope, `date/region/service/aws4_request`."""
        return f"{self.scope_date}/{self.region}/{self.service}/aws4_request"


def parse_signature(request: HttpRequest, family: Family | str) -> SignatureInfo | SigV2Info | None:
    """The request's SigV4 claim (or an S3 SigV2 presigned URL's), or None for an anonymous request.

    Raises SigV4Error (worded for `family`) for a malformed Authorization header or presigned query.
    """
    family = Family(family)
    header = request.headers.get("authorization")
    qs = request.query_string
    presigned = "X-Amz-" in qs and (
        "X-Amz-Algorithm=" in qs or "X-Amz-Signature=" in qs or "X-Amz-Credential=" in qs
    )
    if header is not None:
        if presigned and family is Family.S3:
            raise auth_error(family, "both_auth", header=header)
        return _parse_header(request, header, family)
    if presigned:
        return _parse_query(request, family)
    if family is Family.S3 and is_presigned_v2(qs):
        return parse_presigned_v2(request)
    return None


def _parse_header(request: HttpRequest, header: str, family: Family) -> SignatureInfo:
    headers = request.headers
    algorithm, _, rest = header.strip().partition(" ")
    request_time, amz_date, date = _header_date(headers)
    if algorithm != ALGORITHM:
        if family is Family.S3:
            raise auth_error(family, "unsupported_algorithm", header=header)
        missing = ["Credential", "Signature", "SignedHeaders"] + ([] if date else ["date"])
        raise auth_error(family, "missing_components", header=header, missing=missing)
    params: dict[str, str] = {}
    for part in rest.replace(",", " ").split():  # AWS splits on commas and whitespace
        key, eq, value = part.partition("=")
        if not eq:
            raise auth_error(family, "missing_equal", token=part, header=header)
        params[key] = value
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not params.get(name)]
    if missing:
        raise auth_error(
            family, "missing_components", header=header, missing=missing + ([] if date else ["date"])
        )
    credential = params["Credential"]
    access_key_id, scope_date, region, service = _split_credential(credential, family, presigned=False)
    if date is None:
        raise auth_error(family, "missing_date", header=header)
    if scope_date != amz_date[:8]:
        raise auth_error(family, "credential_date", scope_date=scope_date, amz_date=amz_date)
    content_sha256 = headers.get("x-amz-content-sha256")
    mode = _payload_mode(content_sha256, family)
    if family is Family.S3 and content_sha256 is None:
        raise auth_error(family, "content_sha256_missing")
    return SignatureInfo(
        family=family,
        access_key_id=access_key_id,
        amz_date=amz_date,
        date=date,
        request_time=request_time,
        scope_date=scope_date,
        region=region,
        service=service,
        signed_headers=tuple(params["SignedHeaders"].lower().split(";")),
        signature=params["Signature"],
        is_presigned=False,
        expires=None,
        security_token=headers.get("x-amz-security-token"),
        content_sha256=content_sha256,
        payload_mode=mode,
    )


def _parse_query(request: HttpRequest, family: Family) -> SignatureInfo:
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query_string, keep_blank_values=True):
        query.setdefault(key, value)
    required = ("Algorithm", "Credential", "Signature", "Date", "SignedHeaders")
    if family is Family.S3:
        required += ("Expires",)
    if not all(query.get(f"X-Amz-{name}") for name in required):
        raise auth_error(family, "missing_query_params")
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise auth_error(family, "unsupported_algorithm", header="", presigned=True)
    access_key_id, scope_date, region, service = _split_credential(
        query["X-Amz-Credential"], family, presigned=True
    )
    amz_date = query["X-Amz-Date"]
    date = _parse_amz_date(amz_date)
    if date is None:
        raise auth_error(family, "missing_date", header="", presigned=True)
    if scope_date != amz_date[:8]:
        raise auth_error(family, "credential_date", scope_date=scope_date, amz_date=amz_date, presigned=True)
    raw_expires = query.get("X-Amz-Expires")
    expires = int(raw_expires) if raw_expires and raw_expires.isascii() and raw_expires.isdigit() else None
    if family is Family.S3:
        if expires is None:
            reason = "negative" if raw_expires and raw_expires.startswith("-") else "nan"
            raise auth_error(family, "bad_expires", reason=reason, value=raw_expires)
        if expires > MAX_PRESIGN_EXPIRES:
            raise auth_error(family, "bad_expires", reason="too_long", value=raw_expires)
    content_sha256 = query.get("X-Amz-Content-Sha256")
    if content_sha256 is None and family is Family.S3:
        mode = PayloadMode.UNSIGNED  # S3 presigned URLs leave the payload unsigned
    else:
        mode = _payload_mode(content_sha256, family)
    return SignatureInfo(
        family=family,
        access_key_id=access_key_id,
        amz_date=amz_date,
        date=date,
        request_time=amz_date,
        scope_date=scope_date,
        region=region,
        service=service,
        signed_headers=tuple(query["X-Amz-SignedHeaders"].lower().split(";")),
        signature=query["X-Amz-Signature"],
        is_presigned=True,
        expires=expires,
        security_token=query.get("X-Amz-Security-Token"),
        content_sha256=content_sha256,
        payload_mode=mode,
    )


def _split_credential(credential: str, family: Family, *, presigned: bool) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
        raise auth_error(family, "bad_credential", credential=credential, presigned=presigned)
    return parts[0], parts[1], parts[2], parts[3]


@lru_cache(maxsize=64)
def _parse_amz_date(value: str) -> datetime | None:
    """`20261127T120000Z` as an aware datetime, or None (cached: requests share their second)."""
    if len(value) != 16 or value[8] != "T" or value[15] != "Z" or not value.isascii():
        return None
    digits = value[:8] + value[9:15]
    if not digits.isdigit():
        return None
    try:
        return datetime(
            int(digits[0:4]), int(digits[4:6]), int(digits[6:8]),
            int(digits[8:10]), int(digits[10:12]), int(digits[12:14]), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None


def _header_date(headers: Headers) -> tuple[str, str, datetime | None]:
    """(date as sent, date as YYYYMMDDTHHMMSSZ, parsed) from X-Amz-Date, else the Date header."""
    raw = headers.get("x-amz-date")
    if raw is not None:
        return raw, raw, _parse_amz_date(raw)
    raw = headers.get("date")
    if not raw:
        return "", "", None
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return raw, "", None
    parsed = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return raw, parsed.strftime(AMZ_DATE_FORMAT), parsed


def _payload_mode(value: str | None, family: Family) -> PayloadMode:
    if value is None:
        return PayloadMode.BODY
    mode = _SENTINELS.get(value)
    if mode is not None:
        return mode
    if len(value) == 64 and _HEX.issuperset(value):
        return PayloadMode.SHA256
    if family is Family.S3:
        raise auth_error(family, "content_sha256_invalid", value=value)
    return PayloadMode.BODY  # other services hash the body whatever the header says


def verify_signature(
    request: HttpRequest,
    info: SignatureInfo | SigV2Info,
    secret_key: str,
    now: datetime,
    max_skew: int = 900,
    family: Family | str | None = None,
    *,
    check_payload: bool = True,
) -> None:
    """Raise SigV4Error unless `info`'s signature is the one `secret_key` makes for this request.

    Checks, in AWS's order: the request time (clock skew, or a presigned URL's validity), S3's rule
    that every x-amz-* header is signed, the signature, and (S3, `check_payload`) that the body
    hashes to a literal `x-amz-content-sha256`. A caller streaming the body passes
    `check_payload=False` and calls `verify_payload_hash` once it has hashed the body.
    `family`, if given, overrides the one `info` was parsed for.
    """
    if isinstance(info, SigV2Info):
        return verify_presigned_v2(request, info, secret_key, now)
    if family is not None and family != info.family:
        info = replace(info, family=Family(family))
    family = info.family
    _check_time(info, now, max_skew)
    if family is Family.S3:
        signed = info.signed_headers
        unsigned = [
            n
            for n in request.headers
            if n.startswith("x-amz-") and n not in signed and n != "x-amz-content-sha256"
        ]
        if unsigned:
            raise auth_error(family, "headers_not_signed", headers=unsigned)
    key = signing_key(secret_key, info.scope_date, info.region, info.service)
    check_signature(request, info, key, _payload_hash(request, info))
    if check_payload and family is Family.S3 and info.payload_mode is PayloadMode.SHA256:
        verify_payload_hash(info, hashlib.sha256(request.body).hexdigest())


def verify_payload_hash(info: SignatureInfo, computed: str) -> None:
    """Raise S3's XAmzContentSHA256Mismatch unless the body's hex SHA-256 is the one the client sent."""
    client = info.content_sha256 or ""
    if computed != client.lower():
        raise auth_error(info.family, "content_sha256_mismatch", client=client, computed=computed)


def _check_time(info: SignatureInfo, now: datetime, max_skew: int) -> None:
    window = timedelta(seconds=max_skew)
    if info.is_presigned and info.family is Family.S3:
        expires = info.expires or 0
        if info.date > now + window:
            ctx = {"date": info.date, "now": now, "expires": expires, "raw": info.amz_date}
            raise auth_error(info.family, "presign_not_yet_valid", **ctx)
        if now > info.date + timedelta(seconds=expires):
            ctx = {"date": info.date, "now": now, "expires": expires, "raw": str(expires)}
            raise auth_error(info.family, "presign_expired", **ctx)
        return
    # Other services allow the usual skew; a presigned URL (STS) also expires after X-Amz-Expires
    # if that is sooner. AWS itself was seen ignoring X-Amz-Expires there (aws-sdk-go#2167).
    past = max_skew
    if info.is_presigned and info.expires is not None:
        past = min(info.expires, max_skew)
    if info.date < now - timedelta(seconds=past) or info.date > now + window:
        skew = past if info.date < now else max_skew
        raise auth_error(
            info.family, "skew", date=info.date, now=now, max_skew=skew, request_time=info.request_time
        )


def _payload_hash(request: HttpRequest, info: SignatureInfo) -> str:
    mode = info.payload_mode
    if info.family is Family.S3:
        return info.content_sha256 or UNSIGNED_PAYLOAD  # presigned without X-Amz-Content-Sha256
    if mode is PayloadMode.BODY or mode is PayloadMode.SHA256:
        return hashlib.sha256(request.body).hexdigest()
    return mode.value
