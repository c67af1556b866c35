"""Training-job API on a temp store: Describe's shape, errors with AWS's messages, list filters,
sorting and paging, stop and delete rules, tags."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from sagelocal.services.base import ServiceError
from sagelocal.services.sagemaker.provider import SageMakerProvider
from tests.unit.iam_helpers import ACCOUNT
from tests.unit.training_support import IMAGE, REGION, TrainingClient, ctx, request


@pytest.fixture
def sm(tmp_path: Path) -> TrainingClient:
    return TrainingClient(tmp_path)


def _raises(code: str, fn: object, **params: object) -> str:
    with pytest.raises(ServiceError) as info:
        fn(**params)  # type: ignore[operator]
    assert info.value.code == code, info.value.message
    return info.value.message


def test_create_then_describe_has_the_describe_shape(sm: TrainingClient) -> None:
    arn = sm.create_training_job(**request("My-Job", sm.role_arn))["TrainingJobArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/my-job"
    assert [job.name for job, _ in sm.launched] == ["My-Job"]
    desc = sm.describe_training_job(TrainingJobName="my-job")  # lookups ignore case
    assert desc["TrainingJobName"] == "My-Job"
    assert desc["TrainingJobStatus"] == "InProgress" and desc["SecondaryStatus"] == "Starting"
    [start] = desc["SecondaryStatusTransitions"]
    assert start["Status"] == "Starting" and "EndTime" not in start and start["StatusMessage"]
    assert desc["ModelArtifacts"] == {"S3ModelArtifacts": "s3://b/out/My-Job/output/model.tar.gz"}
    assert desc["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert desc["HyperParameters"] == {"num_round": "10"}
    for absent in ("FailureReason", "TrainingStartTime", "TrainingEndTime", "BillableTimeInSeconds"):
        assert absent not in desc


def test_duplicate_name_is_resource_in_use(sm: TrainingClient) -> None:
    arn = sm.create_training_job(**request("job", sm.role_arn))["TrainingJobArn"]
    message = _raises("ResourceInUse", sm.create_training_job, **request("JOB", sm.role_arn))
    assert message == (
        "Training job names must be unique within an AWS account and region, and a training job with "
        f"this name already exists ({arn})"
    )


def test_unknown_job_is_validation_exception(sm: TrainingClient) -> None:
    for op in (sm.describe_training_job, sm.stop_training_job, sm.delete_training_job):
        assert _raises("ValidationException", op, TrainingJobName="nope") == "Requested resource not found."


@pytest.mark.parametrize("which", ["missing", "untrusted"])
def test_role_must_exist_and_trust_sagemaker(sm: TrainingClient, which: str) -> None:
    role = sm.untrusted_arn if which == "untrusted" else sm.role_arn.replace("SageMakerRole", "Nope")
    message = _raises("ValidationException", sm.create_training_job, **request("j", role))
    assert message == (
        f"Could not assume role {role}. Please ensure that the role exists and allows principal "
        "'sagemaker.amazonaws.com' to assume the role."
    )


@pytest.mark.parametrize(
    ("over", "text"),
    [
        ({"ResourceConfig": None}, "Value null at 'resourceConfig'"),
        ({"StoppingCondition": None}, "Value null at 'stoppingCondition'"),
        ({"AlgorithmSpecification": {"TrainingInputMode": "File"}}, "'algorithmSpecification.trainingImage'"),
        (
            {"AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "Pipe"}},
            "Pipe input mode",
        ),
        ({"ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}}, "one"),
    ],
)
def test_request_checks(sm: TrainingClient, over: dict[str, object], text: str) -> None:
    req = {k: v for k, v in (request("j", sm.role_arn) | over).items() if v is not None}
    assert text in _raises("ValidationException", sm.create_training_job, **req)
    assert sm.launched == []


def test_list_filters_sorting_and_paging(sm: TrainingClient) -> None:
    for name in ("b-job", "a-job", "c-other"):
        sm.create_training_job(**request(name, sm.role_arn))
        time.sleep(0.002)
    by_time = sm.list_training_jobs()["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in by_time] == ["b-job", "a-job", "c-other"]
    by_name = sm.list_training_jobs(SortBy="Name", SortOrder="Descending")["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in by_name] == ["c-other", "b-job", "a-job"]
    assert [
        s["TrainingJobName"] for s in sm.list_training_jobs(NameContains="JOB")["TrainingJobSummaries"]
    ] == [
        "b-job",
        "a-job",
    ]
    assert sm.list_training_jobs(StatusEquals="Completed")["TrainingJobSummaries"] == []
    after = by_time[0]["CreationTime"]
    later = sm.list_training_jobs(CreationTimeAfter=after)["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in later] == ["a-job", "c-other"]
    assert (
        sm.list_training_jobs(CreationTimeBefore=after - timedelta(seconds=1))["TrainingJobSummaries"] == []
    )
    first = sm.list_training_jobs(MaxResults=2, SortBy="Name")
    assert [s["TrainingJobName"] for s in first["TrainingJobSummaries"]] == ["a-job", "b-job"]
    rest = sm.list_training_jobs(MaxResults=2, SortBy="Name", NextToken=first["NextToken"])
    assert [s["TrainingJobName"] for s in rest["TrainingJobSummaries"]] == ["c-other"]
    assert "NextToken" not in rest
    assert (
        _raises("ValidationException", sm.list_training_jobs, NextToken="garbage")
        == "Invalid pagination token."
    )


def test_stop_without_a_process_ends_stopped_and_then_refuses(sm: TrainingClient) -> None:
    sm.create_training_job(**request("j", sm.role_arn))
    assert sm.stop_training_job(TrainingJobName="j") == {}
    desc = sm.describe_training_job(TrainingJobName="j")
    assert desc["TrainingJobStatus"] == "Stopped"
    assert [t["Status"] for t in desc["SecondaryStatusTransitions"]] == ["Starting", "Stopping", "Stopped"]
    message = _raises("ValidationException", sm.stop_training_job, TrainingJobName="j")
    assert message == "The request was rejected because the training job is in status Stopped."


def test_stop_reaches_a_running_process(sm: TrainingClient) -> None:
    stopped: list[str] = []
    sm.api.stop_job = lambda key: stopped.append(key) is None
    arn = sm.create_training_job(**request("j", sm.role_arn))["TrainingJobArn"]
    sm.stop_training_job(TrainingJobName="j")
    assert stopped == [arn]
    desc = sm.describe_training_job(TrainingJobName="j")
    assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == ("Stopping", "Stopping")


def test_delete_only_when_finished_and_name_is_reusable(sm: TrainingClient) -> None:
    sm.create_training_job(**request("j", sm.role_arn))
    assert "InProgress" in _raises("ResourceInUse", sm.delete_training_job, TrainingJobName="j")
    sm.stop_training_job(TrainingJobName="j")
    assert sm.delete_training_job(TrainingJobName="j") == {}
    sm.create_training_job(**request("j", sm.role_arn))
    assert sm.describe_training_job(TrainingJobName="j")["TrainingJobStatus"] == "InProgress"


def test_tags_on_the_job_arn(tmp_path: Path) -> None:
    client = TrainingClient(tmp_path)
    provider = SageMakerProvider(client.db, tmp_path, "http://127.0.0.1:1")
    provider.training.launch = lambda job, role: None
    arn = provider.create_training_job(
        ctx(), request("j", client.role_arn, Tags=[{"Key": "a", "Value": "1"}])
    )["TrainingJobArn"]
    provider.add_tags(ctx(), {"ResourceArn": arn, "Tags": [{"Key": "b", "Value": "2"}]})
    tags = provider.list_tags(ctx(), {"ResourceArn": arn})["Tags"]
    assert tags == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    provider.delete_tags(ctx(), {"ResourceArn": arn, "TagKeys": ["a"]})
    assert provider.list_tags(ctx(), {"ResourceArn": arn})["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ServiceError, match="Requested resource not found"):
        provider.list_tags(ctx(), {"ResourceArn": arn + "x"})
