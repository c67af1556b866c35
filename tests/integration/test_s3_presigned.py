"""Presigned GET/PUT URLs and presigned POST forms from boto3, fetched by plain HTTP clients."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from typing import Any

import httpx
import pytest
from botocore.config import Config

from tests.conftest import AwsClients
from tests.integration.s3_support import (
    MiB,
    md5_etag,
    random_bytes,
    read_body,
    s3_error,
)


def _signer(aws: AwsClients, signature_version: str | None) -> Any:
    """A client whose presigned URLs use boto3's default signer (None) or the one named."""
    config = Config(retries={"max_attempts": 1})
    if signature_version:
        config = config.merge(Config(signature_version=signature_version))
    return aws.client("s3", config=config)


def _xml_code(body: bytes) -> str | None:
    match = re.search(rb"<Code>([^<]+)</Code>", body)
    return match.group(1).decode() if match else None


def _fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


@pytest.mark.parametrize("signature_version", [None, "s3v4"], ids=["boto3-default", "s3v4"])
def test_presigned_get(aws: AwsClients, s3: Any, bucket: str, signature_version: str | None) -> None:
    key = "dir/ü space+plus.txt"
    data = b"presigned bytes\n" * 64
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="text/plain")
    signer = _signer(aws, signature_version)
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    status, headers, body = _fetch(url)
    assert (status, body) == (200, data)
    assert headers["etag"] == md5_etag(data) and headers["content-type"] == "text/plain"

    url = signer.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": 'attachment; filename="x.txt"'},
        ExpiresIn=300,
    )
    status, headers, body = _fetch(url)
    assert (status, body) == (200, data)
    assert headers["content-disposition"] == 'attachment; filename="x.txt"'


@pytest.mark.parametrize("signature_version", [None, "s3v4"], ids=["boto3-default", "s3v4"])
def test_presigned_put(aws: AwsClients, s3: Any, bucket: str, signature_version: str | None) -> None:
    data = random_bytes(MiB + 3, seed=11)
    url = _signer(aws, signature_version).generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": "up/data.csv", "ContentType": "text/csv"},
        ExpiresIn=300,
    )
    resp = httpx.put(url, content=data, headers={"Content-Type": "text/csv"}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["etag"] == md5_etag(data)
    assert read_body(s3, bucket, "up/data.csv") == data
    assert s3.head_object(Bucket=bucket, Key="up/data.csv")["ContentType"] == "text/csv"


def test_tampered_presigned_url_is_refused(aws: AwsClients, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    s3.put_object(Bucket=bucket, Key="other", Body=b"o")
    url = _signer(aws, "s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "secret"}, ExpiresIn=300
    )
    status, _, body = _fetch(url.replace("/secret?", "/other?"))
    assert (status, _xml_code(body)) == (403, "SignatureDoesNotMatch")


def test_expired_presigned_url_is_refused(aws: AwsClients, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="soon", Body=b"s")
    url = _signer(aws, "s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "soon"}, ExpiresIn=1
    )
    time.sleep(2.1)
    status, _, body = _fetch(url)
    assert (status, _xml_code(body)) == (403, "AccessDenied")


def test_presigned_post(s3: Any, bucket: str) -> None:
    data = b"age;job\n56;housemaid\n" * 100
    post = s3.generate_presigned_post(
        Bucket=bucket,
        Key="uploads/form.csv",
        Fields={"Content-Type": "text/csv"},
        Conditions=[{"Content-Type": "text/csv"}, ["content-length-range", 1, MiB]],
        ExpiresIn=300,
    )
    resp = httpx.post(
        post["url"], data=post["fields"], files={"file": ("form.csv", data, "text/csv")}, timeout=30
    )
    assert resp.status_code == 204, resp.text
    assert read_body(s3, bucket, "uploads/form.csv") == data
    head = s3.head_object(Bucket=bucket, Key="uploads/form.csv")
    assert head["ContentType"] == "text/csv" and head["ETag"] == md5_etag(data)


def test_presigned_post_with_filename_and_success_status(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(
        Bucket=bucket,
        Key="uploads/${filename}",
        Fields={"success_action_status": "201"},
        Conditions=[["starts-with", "$key", "uploads/"], {"success_action_status": "201"}],
        ExpiresIn=300,
    )
    resp = httpx.post(post["url"], data=post["fields"], files={"file": ("named.txt", b"named")}, timeout=30)
    assert resp.status_code == 201, resp.text
    assert b"<Key>uploads/named.txt</Key>" in resp.content
    assert read_body(s3, bucket, "uploads/named.txt") == b"named"


def test_presigned_post_violating_its_policy_is_refused(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(
        Bucket=bucket,
        Key="uploads/typed.csv",
        Fields={"Content-Type": "text/csv"},
        Conditions=[{"Content-Type": "text/csv"}],
        ExpiresIn=300,
    )
    fields = dict(post["fields"]) | {"Content-Type": "application/x-sh"}
    resp = httpx.post(post["url"], data=fields, files={"file": ("typed.csv", b"#!/bin/sh")}, timeout=30)
    assert (resp.status_code, _xml_code(resp.content)) == (403, "AccessDenied")
    with s3_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="uploads/typed.csv")
