"""`sagelocal cleanup` run as a real command against a server of its own (it deletes everything
billable in the account, so it must not share the session's server): a dry run changes nothing
and says what is billed and why; SIGTERM stops after the current resource and a rerun resumes;
`--yes` leaves nothing billable (no job running, no notebook, endpoint or bucket) and the free
resources intact; `--all --yes` removes those too."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from sagelocal.billing.cleanup import ORDER, Item, Rate
from sagelocal.billing.cleanup_steps import GONE, StopRequest, execute
from sagelocal.clients import for_server
from sagelocal.launcher import ServerProcess
from tests.conftest import AwsClients
from tests.integration.hosting_support import IMAGE, deploy, train_booster, unique, upload_model, wait_status
from tests.integration.notebook_support import FAST
from tests.integration.role_support import sagemaker_role

pytestmark = pytest.mark.slow

# The training job's algorithm: a process that just keeps running, so the job stays InProgress.
SLEEPER = f'{sys.executable} -c "import time; time.sleep(300)"'
TRAINING_INSTANCE = "ml.m4.xlarge"


@dataclass
class World:
    aws: AwsClients
    role: str
    other_role: str
    data_bucket: str
    empty_bucket: str
    objects: int
    endpoint: str
    notebook: str
    failed_notebook: str
    job: str
    lifecycle: str
    repository: str


def _error_code(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**params)
    return str(info.value.response["Error"]["Code"])


def cleanup(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_argv(world, *args), env=_env(world), capture_output=True, text=True, timeout=120)


def _argv(world: World, *args: str) -> list[str]:
    return [sys.executable, "-m", "sagelocal", "cleanup", "--home", str(world.aws.server.home), *args]


def _env(world: World) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return keep | world.aws.server.client_env() | {"PYTHONUNBUFFERED": "1", "COLUMNS": "250"}


def _report(world: World, *args: str) -> dict[str, Any]:
    proc = cleanup(world, "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("cleanup-home")
    env = dict(os.environ) | {"SAGELOCAL_ALGORITHM_OVERRIDE": SLEEPER}
    with (home.parent / "cleanup-server.log").open("w") as log, ServerProcess(home, env=env, log=log) as srv:
        aws = AwsClients(srv)
        sm, s3, iam = aws.client("sagemaker"), aws.client("s3"), aws.client("iam")
        account = aws.client("sts").get_caller_identity()["Account"]
        role_name = unique("CleanupRole")
        role = sagemaker_role(iam, account, role_name)
        iam.put_role_policy(RoleName=role_name, PolicyName="inline", PolicyDocument=json.dumps(_S3_READ))
        other_role = unique("Ec2Role")
        iam.create_role(RoleName=other_role, AssumeRolePolicyDocument=json.dumps(_EC2_TRUST))

        notebook = unique("nb")
        sm.create_notebook_instance(NotebookInstanceName=notebook, InstanceType="ml.t3.medium", RoleArn=role)
        where = {"LocationConstraint": srv.region}
        data_bucket, empty_bucket = f"sagemaker-{srv.region}-{account}", unique("cleanup-empty")
        for bucket in (data_bucket, empty_bucket):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=where)
        for i in range(3):
            s3.put_object(Bucket=data_bucket, Key=f"data/train/part-{i}.csv", Body=b"1,0.5,0.25\n" * 50)
        s3.create_multipart_upload(Bucket=data_bucket, Key="unfinished/big.bin")
        booster, _ = train_booster(rows=320)
        endpoint = deploy(sm, role, upload_model(s3, data_bucket, booster), unique("ep"))

        job = unique("job")
        sm.create_training_job(**_training_request(job, role, data_bucket))
        lifecycle = unique("lcc")
        failing = [{"Content": base64.b64encode(b"exit 3").decode()}]
        sm.create_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=lifecycle, OnCreate=failing
        )
        failed_notebook = unique("nb-failed")
        sm.create_notebook_instance(
            NotebookInstanceName=failed_notebook,
            InstanceType="ml.t3.medium",
            RoleArn=role,
            LifecycleConfigName=lifecycle,
        )
        repository = unique("repo")
        sm.create_code_repository(
            CodeRepositoryName=repository, GitConfig={"RepositoryUrl": "https://github.com/example/p.git"}
        )
        assert wait_status(sm, endpoint, ("InService", "Failed"))["EndpointStatus"] == "InService"
        sm.get_waiter("notebook_instance_in_service").wait(NotebookInstanceName=notebook, WaiterConfig=FAST)
        with pytest.raises(WaiterError):  # the waiter's failure state: the OnCreate script failed
            sm.get_waiter("notebook_instance_in_service").wait(
                NotebookInstanceName=failed_notebook, WaiterConfig=FAST
            )
        objects = s3.list_objects_v2(Bucket=data_bucket)["KeyCount"]
        yield World(
            aws,
            role_name,
            other_role,
            data_bucket,
            empty_bucket,
            objects,
            endpoint,
            notebook,
            failed_notebook,
            job,
            lifecycle,
            repository,
        )


_S3_READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
_EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _training_request(name: str, role: str, bucket: str) -> dict[str, Any]:
    source = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/data/train"}
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": role,
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": source}}],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": TRAINING_INSTANCE, "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "HyperParameters": {"num_round": "5"},
    }


def _by_name(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(i["kind"], i["name"]): i for i in report["items"]}


def test_dry_run_lists_what_is_billed_and_why_and_changes_nothing(world: World) -> None:
    proc = cleanup(world)
    assert proc.returncode == 0, proc.stderr
    for name in (world.endpoint, world.notebook, world.job, world.data_bucket, world.role, world.lifecycle):
        assert name in proc.stdout
    assert "Being spent now: $" in proc.stdout and "Dry run: nothing was changed." in proc.stdout

    report = _report(world)
    items = _by_name(report)
    endpoint = items[("endpoint", world.endpoint)]
    assert endpoint["billed"] and "1 x ml.m5.large" in endpoint["why"] and endpoint["action"] == "delete"
    notebook = items[("notebook-instance", world.notebook)]
    assert (
        notebook["billed"] and notebook["why"] == "running (InService): compute (ml.t3.medium) + 5 GB volume"
    )
    assert notebook["action"] == "stop, delete"
    failed = items[("notebook-instance", world.failed_notebook)]
    assert failed["billed"] and failed["why"] == "failed: 5 GB volume only" and failed["action"] == "delete"
    job = items[("training-job", world.job)]
    assert job["billed"] and job["why"] == f"running on 1 x {TRAINING_INSTANCE}" and job["action"] == "stop"
    bucket = items[("bucket", world.data_bucket)]
    assert bucket["billed"] and bucket["why"].startswith(f"storage: {world.objects} objects")
    assert bucket["facts"]["multipart_uploads"] == 1
    empty = items[("bucket", world.empty_bucket)]  # buckets are billed for storage: none yet
    assert empty["billed"] and empty["why"] == "storage: 0 objects, 0 B" and empty["action"] == "delete"
    for kind, name in (
        ("model", world.endpoint),
        ("endpoint-config", world.endpoint),
        ("lifecycle-config", world.lifecycle),
        ("code-repository", world.repository),
        ("role", world.role),
    ):
        assert items[(kind, name)]["billed"] is False and items[(kind, name)]["usd_per_hour"] == 0
    assert ("role", world.other_role) not in items  # not a SageMaker role
    for item in report["items"]:  # every billed item has a rate or says why it has none
        assert item["usd_per_hour"] is not None or "not priced" in item["rate"]
    order = [i["kind"] for i in report["plan"]]
    assert order == ["training-job", "endpoint", *["notebook-instance"] * 2, *["bucket"] * 2]

    sm, s3 = world.aws.client("sagemaker"), world.aws.client("s3")
    assert sm.describe_endpoint(EndpointName=world.endpoint)["EndpointStatus"] == "InService"
    desc = sm.describe_notebook_instance(NotebookInstanceName=world.notebook)
    assert desc["NotebookInstanceStatus"] == "InService"
    assert sm.describe_training_job(TrainingJobName=world.job)["TrainingJobStatus"] == "InProgress"
    assert s3.list_objects_v2(Bucket=world.data_bucket)["KeyCount"] == world.objects


def test_sigterm_finishes_the_current_resource_and_a_rerun_resumes(world: World) -> None:
    proc = subprocess.Popen(
        _argv(world, "--yes"), env=_env(world), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith(f"endpoint {world.endpoint} "):
            proc.send_signal(signal.SIGTERM)
            break
    out = "".join(seen) + proc.stdout.read()
    assert proc.wait(60) == 128 + signal.SIGTERM, out
    assert "SIGTERM: finishing the current step" in out and "not reached" in out
    still = out.split("Still there: ")[-1]
    assert f"notebook-instance {world.notebook} (" in still and "again to finish" in still

    sm, s3 = world.aws.client("sagemaker"), world.aws.client("s3")
    assert sm.describe_training_job(TrainingJobName=world.job)["TrainingJobStatus"] == "Stopped"
    assert _error_code(sm.describe_endpoint, EndpointName=world.endpoint) == "ValidationException"
    # What came after was left whole, not half-done.
    desc = sm.describe_notebook_instance(NotebookInstanceName=world.notebook)
    assert desc["NotebookInstanceStatus"] == "InService"
    assert s3.list_objects_v2(Bucket=world.data_bucket)["KeyCount"] == world.objects


def test_yes_leaves_nothing_billable_and_keeps_the_free(world: World) -> None:
    proc = cleanup(world, "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("Nothing billable remains.")
    assert f"notebook-instance {world.notebook} (" in proc.stdout

    sm, s3, iam = (world.aws.client(s) for s in ("sagemaker", "s3", "iam"))
    assert sm.list_notebook_instances()["NotebookInstances"] == []
    assert sm.list_endpoints()["Endpoints"] == []
    assert _error_code(s3.head_bucket, Bucket=world.data_bucket) == "404"
    assert _error_code(s3.head_bucket, Bucket=world.empty_bucket) == "404"
    sm.describe_model(ModelName=world.endpoint)
    sm.describe_endpoint_config(EndpointConfigName=world.endpoint)
    sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=world.lifecycle)
    sm.describe_code_repository(CodeRepositoryName=world.repository)
    iam.get_role(RoleName=world.role)

    again = _report(world)
    assert again["plan"] == [] and again["message"] == "Nothing billable remains."


def test_all_yes_removes_the_free_resources_too(world: World) -> None:
    proc = cleanup(world, "--all", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sm, iam = world.aws.client("sagemaker"), world.aws.client("iam")
    assert sm.list_models()["Models"] == [] and sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert sm.list_notebook_instance_lifecycle_configs()["NotebookInstanceLifecycleConfigs"] == []
    assert sm.list_code_repositories()["CodeRepositorySummaryList"] == []
    assert _error_code(iam.get_role, RoleName=world.role) == "NoSuchEntity"
    iam.get_role(RoleName=world.other_role)  # not SageMaker's: untouched
    report = _report(world, "--all")
    assert report["plan"] == [] and "Nothing else to delete" in report["message"]


def test_a_resource_already_gone_counts_as_done(world: World) -> None:
    """A rerun's plan may name what another run (or a user) deleted meanwhile: NotFound is done."""
    srv = world.aws.server
    creds = srv.credentials()
    clients = for_server(
        srv.endpoint_url, srv.region, creds["aws_access_key_id"], creds["aws_secret_access_key"]
    )
    stale = [Item(kind, unique("gone"), srv.region, "-", True, "", Rate(0.0, ""), "delete") for kind in ORDER]
    outcomes = execute(clients, stale, lambda _: None, StopRequest())
    assert [(o.item.kind, o.result, o.detail) for o in outcomes] == [(kind, GONE, "") for kind in ORDER]
