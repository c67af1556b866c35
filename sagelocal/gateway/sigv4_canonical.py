"""The signature a request should carry, computed by botocore's own SigV4 canonicalization.

`botocore.auth.SigV4Auth` builds the canonical request and string to sign; we feed it exactly the
headers the client signed and the raw path and query as they came over the wire, so what botocore
signed is what we compute. Signing keys are cached per (secret, date, region, service).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, unquote_plus

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from sagelocal.gateway.http import HttpRequest
from sagelocal.gateway.sigv4_errors import Family, auth_error

if TYPE_CHECKING:
    from sagelocal.gateway.sigv4 import SignatureInfo


@lru_cache(maxsize=256)
def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The derived SigV4 signing key (HMAC chain over date, region, service, 'aws4_request')."""
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_signature(request: HttpRequest, info: SignatureInfo, key: bytes, payload_hash: str) -> None:
    """Raise the family's signature-mismatch error unless `info.signature` signs this request."""
    headers = _signed_headers(request, info.signed_headers)
    query = request.query_string
    if info.is_presigned:  # the canonical query is everything but the signature
        query = "&".join(p for p in query.split("&") if not p.startswith("X-Amz-Signature="))
    canonical, string_to_sign, expected = _compute(
        info, key, headers, payload_hash, request.method, request.path, query
    )
    provided = info.signature.encode("utf-8", "surrogateescape")
    if hmac.compare_digest(expected.encode(), provided):
        return
    # Clients that encode the path or query differently from botocore (lowercase hex, unencoded
    # reserved characters) sign the canonical form of what the server decodes; try that once.
    alt_path = quote(unquote(request.path), safe="/~") if info.family is Family.S3 else request.path
    alt_query = _normalized_query(query)
    if (alt_path, alt_query) != (request.path, query):
        alternate = _compute(info, key, headers, payload_hash, request.method, alt_path, alt_query)[2]
        if hmac.compare_digest(alternate.encode(), provided):
            return
    raise auth_error(
        info.family,
        "signature_mismatch",
        access_key_id=info.access_key_id,
        canonical_request=canonical,
        string_to_sign=string_to_sign,
        signature=info.signature,
    )


class _SignedHeaders(dict[str, list[str]]):
    """The signed headers, name -> values, with the one method botocore's canonicalization calls
    (a light stand-in for botocore's email-based HTTPHeaders, which costs ~20 µs a request)."""

    def get_all(self, name: str) -> list[str]:
        return self[name]


def _signed_headers(request: HttpRequest, names: tuple[str, ...]) -> _SignedHeaders:
    """The signed headers as sent (repeats kept; a signed but absent header empty)."""
    headers = _SignedHeaders((name, []) for name in names)
    for name, value in request.headers.raw():
        values = headers.get(name.lower())
        if values is not None:
            values.append(value)
    for values in headers.values():
        if not values:
            values.append("")
    return headers


def _normalized_query(query: str) -> str:
    """The query re-encoded the AWS way from what the server decodes (`+` is a space)."""
    pairs = []
    for pair in query.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            pairs.append(f"{quote(unquote_plus(key), safe='-_.~')}={quote(unquote_plus(value), safe='-_.~')}")
    return "&".join(pairs)


class _Canonicalizer(SigV4Auth):
    """botocore's SigV4 canonicalization fed with exactly what the client signed."""

    def __init__(self, info: SignatureInfo, headers: _SignedHeaders, payload_hash: str) -> None:
        super().__init__(None, info.service, info.region)
        self._headers = headers
        self._payload_hash = payload_hash
        self._s3 = info.family is Family.S3

    def headers_to_sign(self, request: AWSRequest) -> _SignedHeaders:
        return self._headers

    def payload(self, request: AWSRequest) -> str:
        return self._payload_hash

    def _normalize_url_path(self, path: str) -> str:
        # S3 signs the path as sent; other services sign it once more URI-encoded.
        return path if self._s3 else super()._normalize_url_path(path)


def _compute(
    info: SignatureInfo,
    key: bytes,
    headers: _SignedHeaders,
    payload_hash: str,
    method: str,
    path: str,
    query: str,
) -> tuple[str, str, str]:
    """(canonical request, string to sign, expected signature)."""
    signer = _Canonicalizer(info, headers, payload_hash)
    aws_request = AWSRequest(
        method=method, url=f"http://sagelocal{path}?{query}" if query else f"http://sagelocal{path}"
    )
    aws_request.context["timestamp"] = info.amz_date
    canonical = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical)
    return canonical, string_to_sign, hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
