"""S3's virtual-hosted-style addressing, turned into the path style the model's routes describe.

`<bucket>.s3.<anything>` (as AWS names it, e.g. `b.s3.ap-northeast-1.amazonaws.com` or
`b.s3.localhost`) and `<bucket>.localhost` address a bucket by host; everything else is path
style (`/<bucket>/<key>`, what botocore sends whenever an endpoint URL is set).
"""

from __future__ import annotations

from dataclasses import replace

from sagelocal.gateway.http import HttpRequest


def bucket_from_host(host: str) -> str | None:
    """The bucket a Host header names, or None for a path-style host."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower().rstrip(".")
    if ".s3." in name:
        bucket = name.split(".s3.", 1)[0]
    elif name.endswith(".s3"):
        bucket = name[: -len(".s3")]
    elif name.endswith(".localhost"):
        bucket = name[: -len(".localhost")]
        if bucket == "s3":
            return None
    else:
        return None
    return bucket or None


def to_path_style(request: HttpRequest) -> HttpRequest:
    """The same request with a host-addressed bucket moved into the path."""
    bucket = bucket_from_host(request.host)
    if bucket is None:
        return request
    path = request.path if request.path.startswith("/") else "/" + request.path
    return replace(request, path=f"/{bucket}" if path == "/" else f"/{bucket}{path}")
