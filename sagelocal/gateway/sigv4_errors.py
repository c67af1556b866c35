"""The errors AWS answers when a request's authentication fails, per protocol family.

One builder, `auth_error(family, kind, **context)`, renders every authentication error the gateway,
`sigv4` and `aws_chunked` raise. The same failure reads differently per family: STS/IAM (query)
say `SignatureDoesNotMatch`, SageMaker/Logs (json) `InvalidSignatureException`, S3 its own code with
extra XML fields. `SigV4Error.for_family` re-renders an error for another family, so a caller that
parsed a request before it knew the service can still answer in the right dialect.

Wording comes from AWS responses quoted in public bug reports. Where a message could not be confirmed
from such a quote, the builder says so in a comment ("unconfirmed"). Kinds that only S3 has (payload
hash, presigned expiry, aws-chunked framing) render S3's error whatever the family.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sagelocal.services.base import ServiceError

AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Family(StrEnum):
    """How a service words its errors: by wire protocol, with S3 apart."""

    QUERY = "query"
    JSON = "json"
    REST_JSON = "rest-json"
    S3 = "s3"

    @classmethod
    def for_protocol(cls, protocol: str) -> Family:
        """The family of a botocore `metadata.protocol` (rest-xml is S3, the only one we serve)."""
        return _PROTOCOLS[protocol]


_PROTOCOLS = {
    "query": Family.QUERY,
    "ec2": Family.QUERY,
    "json": Family.JSON,
    "rest-json": Family.REST_JSON,
    "rest-xml": Family.S3,
}


class SigV4Error(ServiceError):
    """An authentication failure; `kind` and `context` let it be re-rendered for another family."""

    def __init__(
        self,
        family: Family,
        kind: str,
        context: dict[str, Any],
        code: str,
        message: str,
        status: int,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message, status, fields=fields)
        self.family = family
        self.kind = kind
        self.context = context

    def for_family(self, family: Family) -> SigV4Error:
        """The same failure as `family`'s services word it."""
        return auth_error(family, self.kind, **self.context)


# Non-S3 families share codes per group: (query code, json code, query status, json status).
# rest-json services (Lambda quotes; SageMaker runtime assumed alike) answer 403 for all of them;
# json 1.x services answer 400 (quotes from DynamoDB, Kinesis, ECS, CloudWatch Logs and SageMaker),
# except for a missing token (403, unconfirmed).
_GROUPS = {
    "incomplete": ("IncompleteSignature", "IncompleteSignatureException", 400, 400),
    "signature": ("SignatureDoesNotMatch", "InvalidSignatureException", 403, 400),
    "client": ("InvalidClientTokenId", "UnrecognizedClientException", 403, 400),
    "expired": ("ExpiredToken", "ExpiredTokenException", 403, 400),
    "missing": ("MissingAuthenticationToken", "MissingAuthenticationTokenException", 403, 403),
}
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_S3_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
_REQUIRES = {
    "Credential": "Authorization header requires 'Credential' parameter.",
    "Signature": "Authorization header requires 'Signature' parameter.",
    "SignedHeaders": "Authorization header requires 'SignedHeaders' parameter.",
    "date": "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
}
_MALFORMED = "The authorization header is malformed; "
_CREDENTIAL_SHAPE = (
    'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
)
_S3_QUERY_PARAMS = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
# unconfirmed: recalled from STS/API Gateway answers, not found quoted.
_QUERY_PARAMS = (
    "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', "
    "'X-Amz-SignedHeaders', and 'X-Amz-Date'. Re-examine the query-string parameters."
)
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_S3_ONLY_CODES: dict[str, tuple[str, str, int]] = {
    "content_sha256_missing": (
        "InvalidRequest",
        "Missing required header for this request: x-amz-content-sha256",
        400,
    ),
    "incomplete_body": ("IncompleteBody", "The request body terminated unexpectedly", 400),
    "decoded_length_missing": (
        "MissingContentLength",
        "You must provide the Content-Length HTTP header.",
        411,
    ),
    "malformed_trailer": (
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to our published schema.",
        400,
    ),
}


def auth_error(family: Family | str, kind: str, **ctx: Any) -> SigV4Error:
    """The error AWS answers for authentication failure `kind` in `family`.

    Kinds the gateway raises itself: `invalid_key` alias `unknown-key` (unknown access key id; ctx
    access_key_id), `invalid_token` alias `bad-token` (missing or wrong session token),
    `expired_token` alias `expired-token`, `missing_auth` alias `missing` (anonymous where auth is
    required), `wrong_service` and `wrong_region` (ctx expected, got).
    The others are raised by `sigv4.parse_signature`, `sigv4.verify_signature` and `aws_chunked`.
    """
    family = Family(family)
    kind = _ALIASES.get(kind, kind)
    code, message, status, fields = _render(family, kind, ctx)
    return SigV4Error(family, kind, ctx, code, message, status, fields)


# The gateway's names for the failures it detects itself.
_ALIASES = {
    "missing": "missing_auth",
    "unknown-key": "invalid_key",
    "bad-token": "invalid_token",
    "expired-token": "expired_token",
}


def _other(family: Family, group: str, message: str) -> tuple[str, str, int, dict[str, Any]]:
    query_code, json_code, query_status, json_status = _GROUPS[group]
    if family is Family.QUERY:
        return query_code, message, query_status, {}
    return json_code, message, json_status if family is Family.JSON else 403, {}


def _render(family: Family, kind: str, ctx: dict[str, Any]) -> tuple[str, str, int, dict[str, Any]]:
    s3 = family is Family.S3
    if kind in _S3_ONLY_CODES:
        return (*_S3_ONLY_CODES[kind], {})
    match kind:
        case "missing_components" | "missing_equal":
            if s3:
                message = "the authorization header requires three components: Credential, SignedHeaders, and Signature."
                return "AuthorizationHeaderMalformed", _MALFORMED + message, 400, {}
            if kind == "missing_equal":
                message = f"'{ctx['token']}' not a valid key=value pair (missing equal-sign) in Authorization header: '{ctx['header']}'."
            else:
                message = " ".join(_REQUIRES[m] for m in ctx["missing"]) + f" Authorization={ctx['header']}"
            return _other(family, "incomplete", message)
        case "unsupported_algorithm":
            if s3 and ctx.get("presigned"):  # unconfirmed
                return (
                    "AuthorizationQueryParametersError",
                    'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
                    400,
                    {},
                )
            if s3:
                message = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
                return "InvalidRequest", message, 400, {}
            if ctx.get("presigned"):
                return _other(family, "incomplete", _QUERY_PARAMS)
            missing = ["Credential", "Signature", "SignedHeaders"]
            return _render(family, "missing_components", {**ctx, "missing": missing})
        case "missing_query_params":
            if s3:
                return "AuthorizationQueryParametersError", _S3_QUERY_PARAMS, 400, {}
            return _other(family, "incomplete", _QUERY_PARAMS)
        case "bad_credential":
            if s3 and ctx.get("presigned"):  # unconfirmed
                message = "Error parsing the X-Amz-Credential parameter; " + _CREDENTIAL_SHAPE
                return "AuthorizationQueryParametersError", message, 400, {}
            if s3:
                if ctx["credential"].split("/", 1)[0] == "":
                    message = "a non-empty Access Key (AKID) must be provided in the credential."
                else:
                    message = _CREDENTIAL_SHAPE
                return "AuthorizationHeaderMalformed", _MALFORMED + message, 400, {}
            # unconfirmed
            message = (
                "Credential must have exactly 5 slash-delimited elements, "
                f"e.g. keyid/date/region/service/term, got '{ctx['credential']}'"
            )
            return _other(family, "incomplete", message)
        case "missing_date":
            if s3 and ctx.get("presigned"):  # unconfirmed
                message = "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
                return "AuthorizationQueryParametersError", message, 400, {}
            if s3:  # unconfirmed
                return (
                    "AccessDenied",
                    "AWS authentication requires a valid Date or x-amz-date header",
                    403,
                    {},
                )
            if ctx.get("presigned"):
                return _other(family, "incomplete", _QUERY_PARAMS)
            return _other(family, "incomplete", f"{_REQUIRES['date']} Authorization={ctx['header']}")
        case "credential_date":  # unconfirmed, all three
            scope_date, amz_date = ctx["scope_date"], ctx["amz_date"]
            if s3 and ctx.get("presigned"):
                message = f'Invalid credential date "{scope_date}". This date is not the same as X-Amz-Date: "{amz_date[:8]}".'
                return "AuthorizationQueryParametersError", message, 400, {}
            if s3:
                message = "Invalid credential date. Date is not the same as X-Amz-Date."
                return "AuthorizationHeaderMalformed", _MALFORMED + message, 400, {}
            message = (
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
            return _other(family, "signature", message)
        case "both_auth":  # unconfirmed
            message = (
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
                "string parameter or the Authorization header should be specified"
            )
            fields = {"ArgumentName": "Authorization", "ArgumentValue": ctx["header"]}
            return "InvalidArgument", message, 400, fields
        case "bad_expires":
            reason = ctx["reason"]
            if reason == "too_long":
                message = (
                    "X-Amz-Expires must be less than a week (in seconds); "
                    "that is, the given X-Amz-Expires must be less than 604800 seconds"
                )
            else:  # unconfirmed
                message = (
                    "X-Amz-Expires must be non-negative"
                    if reason == "negative"
                    else "X-Amz-Expires should be a number"
                )
            return "AuthorizationQueryParametersError", message, 400, {}
        case "skew":
            return _skew(family, ctx)
        case "presign_expired" | "presign_not_yet_valid":
            date, now, expires = ctx["date"], ctx["now"], ctx["expires"]
            fields = {
                "X-Amz-Expires" if kind == "presign_expired" else "X-Amz-Date": ctx["raw"],
                "Expires": (date + timedelta(seconds=expires)).strftime(ISO_FORMAT),
                "ServerTime": now.strftime(ISO_FORMAT),
            }
            message = "Request has expired" if kind == "presign_expired" else "Request is not yet valid"
            return "AccessDenied", message, 403, fields
        case "presign_v2_expired":
            fields = {"Expires": ctx["Expires"], "ServerTime": ctx["ServerTime"]}
            return "AccessDenied", "Request has expired", 403, fields
        case "signature_mismatch":
            return _mismatch(family, ctx)
        case "headers_not_signed":
            message = "There were headers present in the request which were not signed"
            return "AccessDenied", message, 403, {"HeadersNotSigned": ", ".join(ctx["headers"])}
        case "content_sha256_invalid":  # confirmed in 2016; today's list may name the trailer modes too
            message = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value."
            fields = {"ArgumentName": "x-amz-content-sha256", "ArgumentValue": ctx["value"]}
            return "InvalidArgument", message, 400, fields
        case "content_sha256_mismatch":
            message = "The provided 'x-amz-content-sha256' header does not match what was computed."
            fields = {
                "ClientComputedContentSHA256": ctx["client"],
                "S3ComputedContentSHA256": ctx["computed"],
            }
            return "XAmzContentSHA256Mismatch", message, 400, fields
        case "decoded_length_mismatch":
            message = "You did not provide the number of bytes specified by the Content-Length HTTP header"
            fields = {"NumberBytesExpected": ctx["expected"], "NumberBytesProvided": ctx["provided"]}
            return "IncompleteBody", message, 400, fields
        case "chunk_size":  # status unconfirmed
            message = "Only the last chunk is allowed to have a size less than 8192 bytes"
            return "InvalidChunkSizeError", message, 403, {"Chunk": ctx["chunk"], "BadChunkSize": ctx["size"]}
        case "invalid_key":
            if s3:
                message = "The AWS Access Key Id you provided does not exist in our records."
                return "InvalidAccessKeyId", message, 403, {"AWSAccessKeyId": ctx.get("access_key_id", "")}
            return _other(family, "client", _INVALID_TOKEN)
        case "invalid_token":
            if s3:
                return "InvalidToken", "The provided token is malformed or otherwise invalid.", 400, {}
            return _other(family, "client", _INVALID_TOKEN)
        case "expired_token":
            if s3:
                return "ExpiredToken", "The provided token has expired.", 400, {}
            return _other(family, "expired", _EXPIRED_TOKEN)
        case "missing_auth":
            if s3:
                return "AccessDenied", "Access Denied", 403, {}
            message = (
                "Missing Authentication Token"
                if family is Family.REST_JSON
                else "Request is missing Authentication Token"
            )
            return _other(family, "missing", message)
        case "wrong_service":
            if s3:  # unconfirmed
                message = f'incorrect service "{ctx["got"]}". This endpoint belongs to "{ctx["expected"]}".'
                return "AuthorizationHeaderMalformed", _MALFORMED + message, 400, {}
            return _other(
                family, "signature", f"Credential should be scoped to correct service: '{ctx['expected']}'. "
            )
        case "wrong_region":
            if s3:
                message = f"the region '{ctx['got']}' is wrong; expecting '{ctx['expected']}'"
                return "AuthorizationHeaderMalformed", _MALFORMED + message, 400, {"Region": ctx["expected"]}
            return _other(
                family, "signature", "Credential should be scoped to a valid region. "
            )  # unconfirmed
    raise ValueError(f"unknown authentication error kind {kind!r}")


def _skew(family: Family, ctx: dict[str, Any]) -> tuple[str, str, int, dict[str, Any]]:
    date: datetime = ctx["date"]
    now: datetime = ctx["now"].replace(microsecond=0)
    max_skew: int = ctx["max_skew"]
    if family is Family.S3:
        fields = {
            "RequestTime": ctx["request_time"],
            "ServerTime": now.strftime(ISO_FORMAT),
            "MaxAllowedSkewMilliseconds": max_skew * 1000,
        }
        return (
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
            fields,
        )
    window = timedelta(seconds=max_skew)
    stamp, now_s = date.strftime(AMZ_DATE_FORMAT), now.strftime(AMZ_DATE_FORMAT)
    # "15 min." is AWS's; a presigned URL's shorter X-Amz-Expires shows as "<n> sec." (unconfirmed).
    span = f"{max_skew // 60} min." if max_skew % 60 == 0 else f"{max_skew} sec."
    if date < now:
        bound = (now - window).strftime(AMZ_DATE_FORMAT)
        message = f"Signature expired: {stamp} is now earlier than {bound} ({now_s} - {span})"
    else:
        bound = (now + window).strftime(AMZ_DATE_FORMAT)
        message = f"Signature not yet current: {stamp} is still later than {bound} ({now_s} + {span})"
    return _other(family, "signature", message)


def _mismatch(family: Family, ctx: dict[str, Any]) -> tuple[str, str, int, dict[str, Any]]:
    canonical, string_to_sign = ctx["canonical_request"], ctx["string_to_sign"]
    if family is Family.S3:
        fields = {
            "AWSAccessKeyId": ctx["access_key_id"],
            "StringToSign": string_to_sign,
            "SignatureProvided": ctx["signature"],
            "StringToSignBytes": _hex_bytes(string_to_sign),
        }
        if canonical:  # SigV2 and chunk signatures have none
            fields["CanonicalRequest"] = canonical
            fields["CanonicalRequestBytes"] = _hex_bytes(canonical)
        return "SignatureDoesNotMatch", _S3_MISMATCH, 403, fields
    # Non-S3 services append what they computed (quoted in STS, Lambda and SageMaker answers).
    message = _MISMATCH
    if canonical:
        message += (
            f"\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
            f"The String-to-Sign should have been\n'{string_to_sign}'\n"
        )
    return _other(family, "signature", message)


def _hex_bytes(text: str) -> str:
    return " ".join(f"{b:02x}" for b in text.encode())
