"""Which IAM actions, resources and condition keys each operation asks permission for."""

from __future__ import annotations

from sagelocal.services.authz_requests import ActionRequest, tag_context
from sagelocal.services.base import RequestContext
from sagelocal.services.iam.actions import iam_actions, logs_actions, sts_actions
from sagelocal.services.s3.actions import s3_actions
from sagelocal.services.sagemaker.actions import runtime_actions, sagemaker_actions

CTX = RequestContext("s3", "Op", "us-east-1", "123456789012", None, "req")


def test_s3_object_and_bucket_actions() -> None:
    assert s3_actions(CTX, "ListBuckets", {}) == [ActionRequest("s3:ListAllMyBuckets")]
    (head,) = s3_actions(CTX, "HeadObject", {"Bucket": "b", "Key": "k/x.csv"})
    assert (head.action, head.resource, head.bucket, head.object_key) == (
        "s3:GetObject",
        "arn:aws:s3:::b/k/x.csv",
        "b",
        "k/x.csv",
    )
    (listing,) = s3_actions(CTX, "ListObjectsV2", {"Bucket": "b", "Prefix": "p/", "Delimiter": "/"})
    assert (listing.action, listing.resource) == ("s3:ListBucket", "arn:aws:s3:::b")
    assert listing.context == {"s3:prefix": "p/", "s3:delimiter": "/"}
    (head_bucket,) = s3_actions(CTX, "HeadBucket", {"Bucket": "b"})
    assert head_bucket.action == "s3:ListBucket"
    for operation in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        assert s3_actions(CTX, operation, {"Bucket": "b", "Key": "k"})[0].action == "s3:PutObject"
    (put,) = s3_actions(CTX, "PutObject", {"Bucket": "b", "Key": "k", "Tagging": "SageMaker=true&team=ml"})
    assert put.object_key is None  # a write does not look at the existing object's tags
    assert put.context == {
        "s3:RequestObjectTag/SageMaker": "true",
        "s3:RequestObjectTag/team": "ml",
        "s3:RequestObjectTagKeys": ["SageMaker", "team"],
    }
    assert s3_actions(CTX, "CreateBucket", {"Bucket": "b"}) == [
        ActionRequest("s3:CreateBucket", "arn:aws:s3:::b", bucket="b")
    ]


def test_s3_copy_and_multi_delete_need_each_object() -> None:
    put, get = s3_actions(
        CTX, "CopyObject", {"Bucket": "dst", "Key": "to", "CopySource": "src/from%20here?versionId=1"}
    )
    assert (put.action, put.resource) == ("s3:PutObject", "arn:aws:s3:::dst/to")
    assert (get.action, get.resource, get.bucket, get.object_key) == (
        "s3:GetObject",
        "arn:aws:s3:::src/from here",
        "src",
        "from here",
    )
    deletes = s3_actions(
        CTX, "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}, {"Key": "c"}]}}
    )
    assert [(d.action, d.resource) for d in deletes] == [
        ("s3:DeleteObject", "arn:aws:s3:::b/a"),
        ("s3:DeleteObject", "arn:aws:s3:::b/c"),
    ]


def test_sagemaker_actions_name_the_resource_and_pass_the_role() -> None:
    role = "arn:aws:iam::123456789012:role/service-role/Exec"
    job, pass_role = sagemaker_actions(
        CTX,
        "CreateTrainingJob",
        {"TrainingJobName": "My-Job", "RoleArn": role, "Tags": [{"Key": "k", "Value": "v"}]},
    )
    assert (job.action, job.resource) == (
        "sagemaker:CreateTrainingJob",
        "arn:aws:sagemaker:us-east-1:123456789012:training-job/my-job",
    )
    assert job.context == {"aws:RequestTag/k": "v", "aws:TagKeys": ["k"]}
    assert pass_role == ActionRequest(
        "iam:PassRole", role, {"iam:PassedToService": "sagemaker.amazonaws.com"}
    )
    (listing,) = sagemaker_actions(CTX, "ListEndpoints", {"NameContains": "x"})
    assert listing.resource == "*"
    (tags,) = sagemaker_actions(CTX, "ListTags", {"ResourceArn": "arn:aws:sagemaker:us-east-1:1:model/m"})
    assert tags.resource == "arn:aws:sagemaker:us-east-1:1:model/m"
    (invoke,) = runtime_actions(CTX, "InvokeEndpoint", {"EndpointName": "Ep"})
    assert (invoke.action, invoke.resource) == (
        "sagemaker:InvokeEndpoint",
        "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep",
    )


def test_iam_sts_and_logs_actions() -> None:
    (create,) = iam_actions(CTX, "CreateRole", {"RoleName": "R", "Tags": [{"Key": "a", "Value": "b"}]})
    assert (create.action, create.resource) == ("iam:CreateRole", "arn:aws:iam::123456789012:role/R")
    assert create.context == tag_context([{"Key": "a", "Value": "b"}])
    (attach,) = iam_actions(CTX, "ListPolicies", {})
    assert attach.resource == "*"
    assert sts_actions(CTX, "GetCallerIdentity", {}) == []  # needs no permission, as on AWS
    (assume,) = sts_actions(CTX, "AssumeRole", {"RoleArn": "arn:aws:iam::123456789012:role/R"})
    assert (assume.action, assume.resource) == ("sts:AssumeRole", "arn:aws:iam::123456789012:role/R")
    (put,) = logs_actions(CTX, "PutLogEvents", {"logGroupName": "/g", "logStreamName": "s"})
    assert put.resource == "arn:aws:logs:us-east-1:123456789012:log-group:/g:log-stream:s"
    (describe,) = logs_actions(CTX, "DescribeLogStreams", {"logGroupName": "/g"})
    assert describe.resource == "arn:aws:logs:us-east-1:123456789012:log-group:/g:*"
