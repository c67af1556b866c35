"""S3's browser-based upload: `POST /<bucket>` with a multipart/form-data body (presigned POST).

No model operation describes it: the form carries the key, a base64 policy document and its
SigV4 signature, and the file. This module reads the form as it streams (the file part goes
straight to a SpooledBody), checks the signature and every policy condition as S3 does, and
returns PutObject's parameters for the S3 provider.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha1, sha256
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode
from xml.sax.saxutils import escape

import anyio.to_thread
from python_multipart.multipart import MultipartParser, parse_options_header

from sagelocal.blobs.spool import SpooledBody
from sagelocal.gateway.http import HttpRequest, HttpResponse
from sagelocal.services.base import ServiceError

BATCH = 1 << 20
MAX_FIELDS_BYTES = 20 * 1024  # S3 limits the form fields before the file to 20 KB
# Fields a policy need not mention.
_EXEMPT = {"x-amz-signature", "awsaccesskeyid", "signature", "file", "policy", "bucket"}
_PUT_FIELDS = {
    "content-type": "ContentType",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "tagging": "Tagging",
    "x-amz-storage-class": "StorageClass",
}


def _invalid_policy(detail: str) -> ServiceError:
    return ServiceError("AccessDenied", f"Invalid according to Policy: {detail}", 403)


@dataclass
class PostForm:
    """The form's fields (names lower-cased) and its file, spooled."""

    fields: dict[str, str] = field(default_factory=dict)
    file: SpooledBody | None = None
    filename: str = ""
    file_content_type: str | None = None  # the file part's own Content-Type header


class _FormReader:
    """Feeds python-multipart's streaming parser; keeps fields, spools the `file` part."""

    def __init__(self, boundary: bytes, spool_dir: Path) -> None:
        self.form = PostForm()
        self._spool_dir = spool_dir
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[str, str] = {}
        self._part: str | None = None
        self._buf: list[bytes] = []
        self._field_bytes = 0
        self._file_done = False
        callbacks: Any = {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: setattr(self, "_header_name", self._header_name + d[s:e]),
            "on_header_value": lambda d, s, e: setattr(self, "_header_value", self._header_value + d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }
        self.parser = MultipartParser(boundary, callbacks)

    def _part_begin(self) -> None:
        self._headers, self._buf, self._part = {}, [], None

    def _header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = self._header_value.decode(
            "utf-8", "replace"
        )
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", ""))
        name = options.get(b"name", b"").decode("utf-8", "replace").lower()
        if self._file_done:
            self._part = None  # S3 ignores fields after the file
        elif name == "file":
            self._part = "file"
            self.form.filename = options.get(b"filename", b"").decode("utf-8", "replace")
            self.form.file = SpooledBody(self._spool_dir, (), want_sha256=False)
        else:
            self._part = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part == "file":
            assert self.form.file is not None
            self.form.file.write(data[start:end])
        elif self._part is not None:
            self._field_bytes += end - start
            if self._field_bytes > MAX_FIELDS_BYTES:
                raise ServiceError(
                    "MaxPostPreDataLengthExceeded",
                    "Your POST request fields preceeding the upload file was too large.",
                )
            self._buf.append(data[start:end])

    def _part_end(self) -> None:
        if self._part == "file":
            self._file_done = True
            self.form.file_content_type = self._headers.get("content-type")
        elif self._part is not None:
            self.form.fields[self._part] = b"".join(self._buf).decode("utf-8", "replace")


async def read_form(content_type: str, stream: AsyncIterator[bytes], spool_dir: Path) -> PostForm:
    """Parse the multipart body as it arrives; the file part never sits whole in memory."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise ServiceError(
            "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."
        )
    reader = _FormReader(boundary, spool_dir)
    pending: list[bytes] = []
    size = 0
    try:
        async for chunk in stream:
            pending.append(chunk)
            size += len(chunk)
            if size >= BATCH:
                await anyio.to_thread.run_sync(reader.parser.write, b"".join(pending))
                pending, size = [], 0
        if pending:
            await anyio.to_thread.run_sync(reader.parser.write, b"".join(pending))
        reader.parser.finalize()
        if reader.form.file is not None:
            await anyio.to_thread.run_sync(reader.form.file.finish)
    except BaseException:
        if reader.form.file is not None:
            reader.form.file.discard()
        raise
    return reader.form


def check_signature(form: PostForm, signing_key: bytes) -> None:
    """SigV4: the x-amz-signature field is HMAC-SHA256 of the base64 policy under the signing key."""
    expected = hmac.new(signing_key, form.fields.get("policy", "").encode(), sha256).hexdigest()
    _compare(expected, form.fields.get("x-amz-signature", ""))


def check_signature_v2(form: PostForm, secret: str) -> None:
    """SigV2 (what boto3 signs with by default): `signature` is base64 HMAC-SHA1 of the policy."""
    mac = hmac.new(secret.encode(), form.fields.get("policy", "").encode(), sha1).digest()
    _compare(base64.b64encode(mac).decode(), form.fields.get("signature", ""))


def _compare(expected: str, given: str) -> None:
    if not hmac.compare_digest(expected, given):
        raise ServiceError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            403,
        )


def check_policy(form: PostForm, bucket: str, now: datetime) -> None:
    """Every condition holds and every field is covered by one, as S3 checks them."""
    try:
        policy = json.loads(base64.b64decode(form.fields["policy"], validate=True))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = policy["conditions"]
    except (ValueError, KeyError, TypeError):
        raise ServiceError("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if now >= expiration:
        raise _invalid_policy("Policy expired.")
    values = dict(form.fields, bucket=bucket)
    covered: set[str] = set()
    for cond in conditions:
        if isinstance(cond, dict):
            for name, want in cond.items():
                cond_list = ["eq", f"${name}", want]
                _check_one(cond_list, values, form)
                covered.add(name.lower())
        elif isinstance(cond, list) and len(cond) == 3:
            _check_one(cond, values, form)
            if isinstance(cond[1], str) and cond[1].startswith("$"):
                covered.add(cond[1][1:].lower())
        else:
            raise ServiceError("InvalidPolicyDocument", "Invalid Policy: Invalid Simple-Condition.")
    extra = [
        n for n in form.fields if n not in covered and n not in _EXEMPT and not n.startswith("x-ignore-")
    ]
    if extra:
        raise _invalid_policy(f"Extra input fields: {', '.join(extra)}")


def _check_one(cond: list[Any], values: dict[str, str], form: PostForm) -> None:
    op = str(cond[0]).lower()
    if op == "content-length-range":
        size = form.file.size if form.file else 0
        low, high = int(cond[1]), int(cond[2])
        if size > high:
            raise ServiceError(
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                400,
                fields={"ProposedSize": size, "MaxSizeAllowed": high},
            )
        if size < low:
            raise ServiceError(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                400,
                fields={"ProposedSize": size, "MinSizeAllowed": low},
            )
        return
    name = str(cond[1]).lstrip("$").lower()
    have = values.get(name, "")
    want = str(cond[2])
    ok = have == want if op == "eq" else have.startswith(want) if op == "starts-with" else False
    if not ok:
        raise _invalid_policy(f"Policy Condition failed: {json.dumps([cond[0], cond[1], cond[2]])}")


def put_params(form: PostForm, bucket: str) -> dict[str, Any]:
    """PutObject's parameters for the S3 provider."""
    if form.file is None:
        raise ServiceError(
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
            400,
            fields={"ArgumentName": "file", "ArgumentValue": "0"},
        )
    key = form.fields.get("key")
    if not key:
        raise ServiceError(
            "InvalidArgument",
            "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
            400,
            fields={"ArgumentName": "key", "ArgumentValue": ""},
        )
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key.replace("${filename}", form.filename),
        "Body": form.file,
    }
    for name, member in _PUT_FIELDS.items():
        if name in form.fields:
            params[member] = form.fields[name]
    if "ContentType" not in params and form.file_content_type:
        params["ContentType"] = form.file_content_type
    meta = {n[len("x-amz-meta-") :]: v for n, v in form.fields.items() if n.startswith("x-amz-meta-")}
    if meta:
        params["Metadata"] = meta
    return params


def post_form_bucket(request: HttpRequest) -> str | None:
    """The bucket of a browser-form upload (`POST /<bucket>`, multipart/form-data), else None."""
    if request.method != "POST" or request.query_string:
        return None
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return None
    parts = [p for p in request.path.split("/") if p]
    return unquote(parts[0]) if len(parts) == 1 else None


def post_response(
    form: PostForm, request: HttpRequest, params: dict[str, Any], result: dict[str, Any]
) -> HttpResponse:
    """S3's answer to a successful POST: 204 by default, 200/201 or a redirect if the form asks."""
    bucket, key, etag = params["Bucket"], params["Key"], str(result.get("ETag", ""))
    location = f"{request.scheme}://{request.host}/{quote(bucket)}/{quote(key)}"
    headers = {"ETag": etag, "Location": location}
    redirect = form.fields.get("success_action_redirect") or form.fields.get("redirect")
    if redirect:
        sep = "&" if "?" in redirect else "?"
        target = f"{redirect}{sep}{urlencode({'bucket': bucket, 'key': key, 'etag': etag})}"
        return HttpResponse(303, headers | {"Location": target})
    status = form.fields.get("success_action_status", "204")
    if status == "201":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
            f"<Location>{escape(location)}</Location><Bucket>{escape(bucket)}</Bucket>"
            f"<Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag></PostResponse>"
        ).encode()
        return HttpResponse(201, headers | {"Content-Type": "application/xml"}, body)
    return HttpResponse(200 if status == "200" else 204, headers)
