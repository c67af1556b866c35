"""Which service a request is for."""

from __future__ import annotations

from sagelocal.gateway.http import Headers, HttpRequest
from sagelocal.gateway.routing import identify_service

SCOPE = "AWS4-HMAC-SHA256 Credential=AKIAXXXXXXXXXXXXXXXX/20261127/ap-northeast-1/{svc}/aws4_request, SignedHeaders=host, Signature=00"


def _req(
    method: str = "POST", path: str = "/", query: str = "", body: bytes = b"", **headers: str
) -> HttpRequest:
    hs = Headers((k.replace("_", "-"), v) for k, v in headers.items())
    return HttpRequest(method, path, query, hs, body)


def test_scope_service_decides() -> None:
    for svc in ("sts", "iam", "logs", "s3"):
        assert identify_service(_req(authorization=SCOPE.format(svc=svc))) == svc


def test_sagemaker_runtime_by_path() -> None:
    auth = SCOPE.format(svc="sagemaker")
    assert (
        identify_service(_req(path="/endpoints/my-ep/invocations", authorization=auth)) == "sagemaker-runtime"
    )
    assert identify_service(_req(path="/", authorization=auth)) == "sagemaker"


def test_unsigned_requests() -> None:
    assert identify_service(_req(x_amz_target="Logs_20140328.DescribeLogGroups")) == "logs"
    assert identify_service(_req(x_amz_target="SageMaker.ListModels")) == "sagemaker"
    form = "application/x-www-form-urlencoded"
    assert (
        identify_service(_req(body=b"Action=GetCallerIdentity&Version=2011-06-15", content_type=form))
        == "sts"
    )
    assert identify_service(_req(body=b"Action=ListRoles&Version=2010-05-08", content_type=form)) == "iam"
    assert identify_service(_req("GET", query="Action=GetCallerIdentity&Version=2011-06-15")) == "sts"
    assert identify_service(_req("GET", path="/bucket/key")) == "s3"


def test_presigned_scope() -> None:
    q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAX%2F20261127%2Fap-northeast-1%2Fs3%2Faws4_request"
    assert identify_service(_req("GET", path="/b/k", query=q)) == "s3"


def test_unserved_service_is_named() -> None:
    assert identify_service(_req(authorization=SCOPE.format(svc="ec2"))) == "ec2"
