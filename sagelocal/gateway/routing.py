"""Which AWS service a request is for, decided the way AWS's front ends decide it.

In order: the SigV4 credential scope's service name (header or presigned query), the JSON
protocol's `X-Amz-Target` prefix, the query protocol's `Version`, and S3 for everything else.
sagemaker-runtime signs as "sagemaker"; only its `/endpoints/{name}/invocations` path tells it
apart from the control plane.
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import parse_qs, unquote

from botocore.model import ServiceModel
from botocore.session import get_session

from sagelocal.gateway.http import HttpRequest

# The services this gateway serves, by botocore name.
SERVICES = ("sts", "iam", "logs", "sagemaker", "sagemaker-runtime", "s3")

_RUNTIME_PATH = re.compile(r"^/endpoints/[^/]+/(invocations|async-invocations|invocations-response-stream)$")
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_TARGET_PREFIXES = {"SageMaker": "sagemaker", "Logs_20140328": "logs"}
_QUERY_VERSIONS = {"2011-06-15": "sts", "2010-05-08": "iam"}


@cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of a service (loaded once per process)."""
    return get_session().get_service_model(name)


def _scope_service(request: HttpRequest) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        m = _SCOPE.search(auth)
        return m.group(2) if m else None
    if "X-Amz-Credential" in request.query_string:
        cred = request.query_dict().get("X-Amz-Credential", "")
        parts = cred.split("/")
        return parts[3] if len(parts) == 5 else None
    return None


def _query_version(request: HttpRequest) -> str | None:
    if "Version=" in request.query_string:
        return request.query_dict().get("Version")
    ctype = request.headers.get("content-type", "")
    if request.method == "POST" and ctype.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(request.body.decode("utf-8", "replace")).get("Version")
        return values[0] if values else None
    return None


def identify_service(request: HttpRequest) -> str:
    """The botocore name of the service the request calls."""
    path = unquote(request.path)
    scoped = _scope_service(request)
    if scoped == "sagemaker":
        return "sagemaker-runtime" if _RUNTIME_PATH.match(path) else "sagemaker"
    if scoped:
        return scoped  # may name a service we do not serve; the gateway says so
    target = request.headers.get("x-amz-target")
    if target:
        prefix = target.split(".", 1)[0]
        if prefix in _TARGET_PREFIXES:
            return _TARGET_PREFIXES[prefix]
    if _RUNTIME_PATH.match(path) and request.method == "POST":
        return "sagemaker-runtime"
    version = _query_version(request)
    if version in _QUERY_VERSIONS:
        return _QUERY_VERSIONS[version]
    return "s3"
