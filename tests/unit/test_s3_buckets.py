"""S3 buckets: naming rules, location constraints, ownership, listing, deletion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sagelocal.services.s3.names import bucket_name_problem
from tests.unit.s3_support import ACCOUNT, OTHER_ACCOUNT, REGION, S3, new_s3


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3]:
    yield from new_s3(tmp_path)


CFG = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("abc", True),
        ("a" * 63, True),
        ("my.bucket-1", True),
        ("sagemaker-ap-northeast-1-123456789012", True),
        ("ab", False),
        ("a" * 64, False),
        ("My-Bucket", False),
        ("my_bucket", False),
        ("-bucket", False),
        ("bucket-", False),
        (".bucket", False),
        ("my..bucket", False),
        ("192.168.5.4", False),
        ("xn--bucket", False),
        ("sthree-bucket", False),
        ("bucket-s3alias", False),
        ("bucket--ol-s3", False),
        ("buck et", False),
        ("bücket", False),
    ],
)
def test_bucket_naming_rules(s3: S3, name: str, ok: bool) -> None:
    assert (bucket_name_problem(name) is None) is ok
    if ok:
        s3("CreateBucket", Bucket=name, **CFG)
        s3("HeadBucket", Bucket=name)
    else:
        err = s3.error("InvalidBucketName", "CreateBucket", Bucket=name, **CFG)
        assert err.status == 400 and err.message == "The specified bucket is not valid."
        assert err.fields == {"BucketName": name}


def test_location_constraint_must_match_the_endpoint_region(s3: S3) -> None:
    err = s3.error("IllegalLocationConstraintException", "CreateBucket", Bucket="bk1")
    assert err.message == (
        "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
    )
    err = s3.error(
        "IllegalLocationConstraintException",
        "CreateBucket",
        Bucket="bk1",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    assert err.message.startswith("The eu-west-1 location constraint is incompatible")
    s3("CreateBucket", Bucket="bk1", **CFG)
    assert s3("GetBucketLocation", Bucket="bk1") == {"LocationConstraint": REGION}
    assert s3("HeadBucket", Bucket="bk1")["BucketRegion"] == REGION


def test_us_east_1_takes_no_constraint(s3: S3) -> None:
    east = s3.as_account(ACCOUNT, "us-east-1")
    east("CreateBucket", Bucket="east")
    assert east("GetBucketLocation", Bucket="east") == {}
    east.error(
        "InvalidLocationConstraint",
        "CreateBucket",
        Bucket="east2",
        CreateBucketConfiguration={"LocationConstraint": "us-east-1"},
    )
    # re-creating your own bucket in us-east-1 is the legacy no-op 200
    east("CreateBucket", Bucket="east")


def test_existing_bucket_errors(s3: S3) -> None:
    s3.bucket("taken")
    err = s3.error("BucketAlreadyOwnedByYou", "CreateBucket", Bucket="taken", **CFG)
    assert err.status == 409
    other = s3.as_account(OTHER_ACCOUNT)
    err = other.error("BucketAlreadyExists", "CreateBucket", Bucket="taken", **CFG)
    assert err.status == 409
    # names are global across regions too
    s3.as_account(OTHER_ACCOUNT, "us-east-1").error("BucketAlreadyExists", "CreateBucket", Bucket="taken")


def test_head_bucket_missing_and_expected_owner(s3: S3) -> None:
    err = s3.error("NoSuchBucket", "HeadBucket", Bucket="nope")
    assert err.status == 404  # the codec sends HEAD errors bodiless: botocore says "404"/"Not Found"
    s3.bucket("mine")
    assert s3("HeadBucket", Bucket="mine", ExpectedBucketOwner=ACCOUNT)["BucketRegion"] == REGION
    err = s3.error("AccessDenied", "HeadBucket", Bucket="mine", ExpectedBucketOwner=OTHER_ACCOUNT)
    assert err.status == 403


def test_list_buckets_is_per_account_sorted_and_pages(s3: S3) -> None:
    for name in ("ccc", "aaa", "bbb"):
        s3.bucket(name)
    s3.as_account(OTHER_ACCOUNT).bucket("zzz-other")
    out = s3("ListBuckets")
    assert [b["Name"] for b in out["Buckets"]] == ["aaa", "bbb", "ccc"]
    assert all(b["CreationDate"].tzinfo is not None for b in out["Buckets"])
    assert len(out["Owner"]["ID"]) == 64
    first = s3("ListBuckets", MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == ["aaa", "bbb"]
    rest = s3("ListBuckets", MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == ["ccc"] and "ContinuationToken" not in rest
    assert [b["Name"] for b in s3("ListBuckets", Prefix="b")["Buckets"]] == ["bbb"]


def test_delete_bucket(s3: S3) -> None:
    s3.bucket()
    s3.put("k")
    err = s3.error("BucketNotEmpty", "DeleteBucket", Bucket="bkt")
    assert (err.status, err.message) == (409, "The bucket you tried to delete is not empty")
    s3("CreateMultipartUpload", Bucket="bkt", Key="pending")
    s3("DeleteObject", Bucket="bkt", Key="k")
    s3("DeleteBucket", Bucket="bkt")
    s3.error("NoSuchBucket", "HeadBucket", Bucket="bkt")
    s3.error("NoSuchBucket", "DeleteBucket", Bucket="bkt")
    err = s3.error("NoSuchBucket", "GetObject", Bucket="bkt", Key="k")
    assert err.message == "The specified bucket does not exist." and err.fields == {"BucketName": "bkt"}
