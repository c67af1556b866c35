"""S3's legacy presigned URLs (Signature Version 2 query-string auth), which boto3 still makes.

`boto3.client("s3").generate_presigned_url(...)` signs with SigV2 (`AWSAccessKeyId`, `Expires`,
`Signature`) unless the client is configured with `signature_version="s3v4"`, and S3 still honours
such URLs in the regions that predate 2014. The string to sign is botocore's own
(`botocore.auth.HmacV1QueryAuth.canonical_string`), rebuilt from the request as received.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import HmacV1QueryAuth
from botocore.compat import HTTPHeaders

from sagelocal.gateway.http import HttpRequest
from sagelocal.gateway.sigv4_errors import ISO_FORMAT, Family, auth_error


@dataclass(frozen=True, slots=True)
class SigV2Info:
    """A SigV2 presigned URL's claim. It has no credential scope: `region` is None."""

    access_key_id: str
    signature: str
    expires: str  # the Expires parameter, seconds since the epoch
    expires_at: datetime
    security_token: str | None
    query: dict[str, str]
    family: Family = Family.S3
    is_presigned: bool = True
    region: str | None = None
    service: str = "s3"


def is_presigned_v2(query_string: str) -> bool:
    """The query carries SigV2 query-string auth parameters."""
    return "Signature=" in query_string and "AWSAccessKeyId=" in query_string


def parse_presigned_v2(request: HttpRequest) -> SigV2Info:
    """The claim of a SigV2 presigned URL; raises S3's AccessDenied for a malformed one."""
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query_string, keep_blank_values=True):
        query.setdefault(key, value)
    expires = query.get("Expires", "")
    if not (
        query.get("AWSAccessKeyId") and query.get("Signature") and expires.isascii() and expires.isdigit()
    ):
        # unconfirmed: S3's answer to a SigV2 query missing one of its three parameters.
        raise auth_error(Family.S3, "missing_auth")
    return SigV2Info(
        access_key_id=query["AWSAccessKeyId"],
        signature=query["Signature"],
        expires=expires,
        expires_at=datetime.fromtimestamp(int(expires), UTC),
        security_token=query.get("x-amz-security-token"),
        query=query,
    )


class _StringToSign(HmacV1QueryAuth):
    """botocore's SigV2 string to sign, with the URL's Expires in the date line."""

    def __init__(self, expires: str) -> None:
        super().__init__(None)
        self._expires_value = expires

    def _get_date(self) -> str:
        return self._expires_value


def verify_presigned_v2(request: HttpRequest, info: SigV2Info, secret_key: str, now: datetime) -> None:
    """Raise SigV4Error unless the URL is unexpired and signed by `secret_key`."""
    if now > info.expires_at:
        fields = {"Expires": info.expires_at.strftime(ISO_FORMAT), "ServerTime": now.strftime(ISO_FORMAT)}
        raise auth_error(Family.S3, "presign_v2_expired", **fields)
    headers = HTTPHeaders()
    for name, value in request.headers.raw():
        lname = name.lower()
        if lname in ("content-md5", "content-type") or lname.startswith("x-amz-"):
            headers[lname] = value
    for name, value in info.query.items():  # botocore moves x-amz-* headers into the query
        if name.lower().startswith("x-amz-") and name.lower() not in headers:
            headers[name.lower()] = value
    split = urlsplit(f"http://sagelocal{request.path}?{request.query_string}")
    string_to_sign = _StringToSign(info.expires).canonical_string(request.method, split, headers)
    digest = hmac.new(secret_key.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    expected = base64.b64encode(digest)
    if not hmac.compare_digest(expected, info.signature.encode("utf-8", "surrogateescape")):
        raise auth_error(
            Family.S3,
            "signature_mismatch",
            access_key_id=info.access_key_id,
            canonical_request="",
            string_to_sign=string_to_sign,
            signature=info.signature,
        )
