"""S3 object and bucket tagging, bucket policies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.s3_support import S3, new_s3


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3]:
    yield from new_s3(tmp_path)


def _tags(n: int, key_len: int = 3, value_len: int = 3) -> dict:
    return {"TagSet": [{"Key": f"{i:0{key_len}d}", "Value": "v" * value_len} for i in range(n)]}


def test_object_tagging(s3: S3) -> None:
    s3.bucket()
    s3.put("k")
    assert s3("GetObjectTagging", Bucket="bkt", Key="k") == {"TagSet": []}
    s3("PutObjectTagging", Bucket="bkt", Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    assert s3("GetObjectTagging", Bucket="bkt", Key="k") == {"TagSet": [{"Key": "a", "Value": "1"}]}
    s3("PutObjectTagging", Bucket="bkt", Key="k", Tagging=_tags(10, 128, 256))
    assert len(s3("GetObjectTagging", Bucket="bkt", Key="k")["TagSet"]) == 10
    # too many tags is S3's BadRequest, the other breaches InvalidTag
    s3.error("BadRequest", "PutObjectTagging", Bucket="bkt", Key="k", Tagging=_tags(11))
    for bad in (
        _tags(1, key_len=129),
        _tags(1, value_len=257),
        {"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]},
        {"TagSet": [{"Key": "aws:x", "Value": "1"}]},
    ):
        s3.error("InvalidTag", "PutObjectTagging", Bucket="bkt", Key="k", Tagging=bad)
    assert len(s3("GetObjectTagging", Bucket="bkt", Key="k")["TagSet"]) == 10  # unchanged
    s3("DeleteObjectTagging", Bucket="bkt", Key="k")
    assert s3("GetObjectTagging", Bucket="bkt", Key="k") == {"TagSet": []}
    s3.error("NoSuchKey", "GetObjectTagging", Bucket="bkt", Key="none")
    s3.error("NoSuchKey", "PutObjectTagging", Bucket="bkt", Key="none", Tagging=_tags(1))


def test_bucket_tagging(s3: S3) -> None:
    s3.bucket()
    err = s3.error("NoSuchTagSet", "GetBucketTagging", Bucket="bkt")
    assert err.status == 404 and err.message == "The TagSet does not exist"
    s3("PutBucketTagging", Bucket="bkt", Tagging=_tags(50))
    assert len(s3("GetBucketTagging", Bucket="bkt")["TagSet"]) == 50
    s3.error("InvalidTag", "PutBucketTagging", Bucket="bkt", Tagging=_tags(51))
    s3("DeleteBucketTagging", Bucket="bkt")
    s3.error("NoSuchTagSet", "GetBucketTagging", Bucket="bkt")
    s3.error("NoSuchBucket", "GetBucketTagging", Bucket="nob")


def _policy(**statement: object) -> str:
    st = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt/*"}
    st.update(statement)
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{k: v for k, v in st.items() if v is not None}]}
    )


def test_bucket_policy_roundtrip(s3: S3) -> None:
    s3.bucket()
    err = s3.error("NoSuchBucketPolicy", "GetBucketPolicy", Bucket="bkt")
    assert err.status == 404 and err.message == "The bucket policy does not exist"
    doc = _policy(Action=["s3:GetObject", "s3:List*"], Resource=["arn:aws:s3:::bkt", "arn:aws:s3:::bkt/*"])
    s3("PutBucketPolicy", Bucket="bkt", Policy=doc)
    assert s3("GetBucketPolicy", Bucket="bkt") == {"Policy": doc}
    s3("DeleteBucketPolicy", Bucket="bkt")
    s3.error("NoSuchBucketPolicy", "GetBucketPolicy", Bucket="bkt")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ("[1]", "Policies must be valid JSON and the first byte must be '{'"),
        ("{bad json", "Policies must be valid JSON and the first byte must be '{'"),
        (json.dumps({"Version": "2012-10-17"}), "Missing required field Statement"),
        (json.dumps({"Version": "1999-01-01", "Statement": []}), "Invalid policy syntax."),
        (json.dumps({"Statement": [], "Bogus": 1}), "Invalid policy syntax."),
        (_policy(Resource="arn:aws:s3:::other-bucket/*"), "Policy has invalid resource"),
        (_policy(Resource="arn:aws:iam::123456789012:role/x"), "Policy has invalid resource"),
        (_policy(Action="ec2:RunInstances"), "Policy has invalid action"),
        (_policy(Effect="Maybe"), "Invalid effect: Maybe"),
        (_policy(Principal=None), "Missing required field Principal"),
        (_policy(Action=None), "Missing required field Action"),
        (_policy(Resource=None), "Missing required field Resource"),
    ],
)
def test_malformed_policies(s3: S3, doc: str, message: str) -> None:
    s3.bucket()
    err = s3.error("MalformedPolicy", "PutBucketPolicy", Bucket="bkt", Policy=doc)
    assert err.status == 400 and err.message == message
    s3.error("NoSuchBucketPolicy", "GetBucketPolicy", Bucket="bkt")
