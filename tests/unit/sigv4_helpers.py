"""Real clients as the signers: boto3 builds and signs each request, we receive it as uvicorn would."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config

from sagelocal.gateway.http import Headers, HttpRequest
from sagelocal.gateway.sigv4 import SignatureInfo, SigV2Info, SigV4Error, parse_signature, verify_signature

ENDPOINT = "http://127.0.0.1:4570"
REGION = "ap-northeast-1"
ACCESS_KEY = "AKIASAGELOCALTEST001"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ODD_KEY = "dir/my file+x=1 ü✓~(1)&a.txt"  # spaces, unicode, + and = in an S3 key
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+session/token=="


class _Sent(Exception):
    """Raised from botocore's before-send hook: the request is signed and ready for the wire."""

    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("sent")
        self.request = request


def client(
    service: str,
    *,
    secret: str = SECRET,
    token: str | None = None,
    access_key: str = ACCESS_KEY,
    endpoint: str = ENDPOINT,
    **config: Any,
) -> Any:
    """A boto3 client whose requests stop at the wire (see `capture`)."""
    c = boto3.session.Session().client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 0}, **config),
    )

    def stop(request: AWSPreparedRequest, **_: Any) -> None:
        raise _Sent(request)

    c.meta.events.register("before-send", stop)
    return c


def capture(c: Any, operation: str, **params: Any) -> HttpRequest:
    """The request boto3 sends for `operation`, as our server receives it."""
    with pytest.raises(_Sent) as sent:
        getattr(c, operation)(**params)
    return received(sent.value.request)


def received(prepared: AWSPreparedRequest) -> HttpRequest:
    """What uvicorn hands the app: raw path and query, lower-case header names, the Host header
    urllib3 adds, the body bytes (an aws-chunked stream read to its end)."""
    url = urlsplit(prepared.url)
    headers = []
    for name, value in prepared.headers.items():
        headers.append((name.lower(), value.decode("latin-1") if isinstance(value, bytes) else value))
    if not any(name == "host" for name, _ in headers):  # urllib3 adds it on the wire
        headers.insert(0, ("host", url.netloc))
    body = prepared.body
    if body is None:
        body = b""
    elif hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, str):
        body = body.encode()
    return HttpRequest(prepared.method, url.path, url.query, Headers(headers), bytes(body))


def from_url(
    url: str, method: str = "GET", body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()
) -> HttpRequest:
    """A presigned URL fetched by a plain HTTP client (curl, urllib, requests)."""
    parts = urlsplit(url)
    base = [("host", parts.netloc), ("user-agent", "curl/8.5.0"), ("accept", "*/*")]
    return HttpRequest(method, parts.path, parts.query, Headers([*base, *headers]), body)


def with_headers(request: HttpRequest, **changes: str) -> HttpRequest:
    """`request` with headers replaced or added (underscores in names become dashes)."""
    names = {k.replace("_", "-"): v for k, v in changes.items()}
    kept = [(k, v) for k, v in request.headers.raw() if k not in names]
    return HttpRequest(
        request.method, request.path, request.query_string, Headers([*kept, *names.items()]), request.body
    )


def verify(
    request: HttpRequest, family: str, *, secret: str = SECRET, now: datetime | None = None
) -> SignatureInfo | SigV2Info:
    """Parse and verify as the gateway does; `now` defaults to a second after the signing time."""
    info = parse_signature(request, family)
    assert info is not None
    if now is None:
        now = info.expires_at if isinstance(info, SigV2Info) else info.date + timedelta(seconds=1)
    verify_signature(request, info, secret, now)
    return info


def refused(request: HttpRequest, family: str, **kwargs: Any) -> SigV4Error:
    """The error parse or verify raises."""
    with pytest.raises(SigV4Error) as err:
        verify(request, family, **kwargs)
    return err.value
