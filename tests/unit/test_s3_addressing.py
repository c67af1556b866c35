"""Virtual-hosted-style S3 addressing."""

from __future__ import annotations

from sagelocal.gateway.http import Headers, HttpRequest
from sagelocal.gateway.s3_addressing import bucket_from_host, to_path_style


def test_hosts() -> None:
    assert bucket_from_host("mybucket.s3.ap-northeast-1.amazonaws.com") == "mybucket"
    assert bucket_from_host("my.dotted.bucket.s3.localhost:4570") == "my.dotted.bucket"
    assert bucket_from_host("mybucket.localhost:4570") == "mybucket"
    for path_style in ("127.0.0.1:4570", "localhost:4570", "s3.localhost", "[::1]:4570", "example.com"):
        assert bucket_from_host(path_style) is None


def test_rewrite_keeps_the_raw_key() -> None:
    req = HttpRequest("GET", "/dir/a%20b.txt", "", Headers([("host", "bkt.s3.localhost:4570")]))
    assert to_path_style(req).path == "/bkt/dir/a%20b.txt"
    root = HttpRequest("GET", "/", "list-type=2", Headers([("host", "bkt.localhost")]))
    assert to_path_style(root).path == "/bkt"
    plain = HttpRequest("GET", "/bkt/k", "", Headers([("host", "127.0.0.1:4570")]))
    assert to_path_style(plain) is plain
