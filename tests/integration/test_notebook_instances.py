"""Notebook instances driven by boto3 through their whole lifecycle: a lifecycle configuration
and local Git repositories, AWS's waiters, every illegal transition answered with AWS's message,
and the ways an instance fails (a failing or slow script, an unreachable repository, a role
SageMaker may not assume)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import AwsClients
from tests.integration.bank_support import TRUST
from tests.integration.notebook_support import (
    git_repo,
    lifecycle_config,
    log_messages,
    run_inside,
    unique,
    wait,
)
from tests.integration.role_support import sagemaker_role

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sm(notebook_aws: AwsClients) -> Any:
    return notebook_aws.client("sagemaker")


@pytest.fixture(scope="module")
def role(notebook_aws: AwsClients) -> str:
    iam = notebook_aws.client("iam")
    account = notebook_aws.client("sts").get_caller_identity()["Account"]
    return sagemaker_role(iam, account, unique("nb-role"))


BACKGROUND_SLEEP = 6000 + os.getpid() % 997


def _running(command: str) -> bool:
    return subprocess.run(["pgrep", "-f", command], capture_output=True).returncode == 0


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**params)
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def transition(arn: str, status: str, allowed: str, target: str) -> str:
    return f"Status ({status}) not in ([{allowed}]). Unable to transition to ({target}) for Notebook Instance ({arn})."


def test_full_lifecycle(notebook_aws: AwsClients, sm: Any, role: str, tmp_path: Path) -> None:
    main_repo = git_repo(tmp_path, "analysis", {"README.md": "# analysis\n"})
    extra_repo = git_repo(tmp_path, "helpers.git", {"util.py": "X = 1\n"})
    registered = unique("repo")
    sm.create_code_repository(
        CodeRepositoryName=registered, GitConfig={"RepositoryUrl": f"file://{extra_repo}"}
    )
    lcc = lifecycle_config(
        sm,
        on_create='echo "on-create ran" ; echo created >> "$HOME/SageMaker/on-create.txt"',
        on_start=(
            'echo "on-start ran as $(whoami)" ; date >> "$HOME/SageMaker/on-start.txt"\n'
            f"nohup sleep {BACKGROUND_SLEEP} >/dev/null 2>&1 &\n"  # AWS's way past the time limit
        ),
    )
    name = unique("nb")
    arn = sm.create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.t3.medium",
        RoleArn=role,
        LifecycleConfigName=lcc,
        DefaultCodeRepository=f"file://{main_repo}",
        AdditionalCodeRepositories=[registered],
        KmsKeyId="alias/notebooks",
        Tags=[{"Key": "team", "Value": "ml"}],
    )["NotebookInstanceArn"]
    assert (
        arn == f"arn:aws:sagemaker:{notebook_aws.server.region}:{arn.split(':')[4]}:notebook-instance/{name}"
    )
    assert sm.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"] == "Pending"
    wait(sm, "notebook_instance_in_service", name)

    desc = sm.describe_notebook_instance(NotebookInstanceName=name)
    assert desc["NotebookInstanceStatus"] == "InService"
    assert desc["InstanceType"] == "ml.t3.medium" and desc["VolumeSizeInGB"] == 5
    assert desc["RoleArn"] == role and desc["KmsKeyId"] == "alias/notebooks"
    assert desc["NotebookInstanceLifecycleConfigName"] == lcc
    assert desc["DefaultCodeRepository"] == f"file://{main_repo}"
    assert desc["AdditionalCodeRepositories"] == [registered]
    assert desc["DirectInternetAccess"] == "Enabled" and desc["RootAccess"] == "Enabled"
    assert desc["Url"].endswith(f"/_sagelocal/notebooks/{notebook_aws.server.region}/{name}")
    assert not desc["Url"].startswith("http")
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    # From inside: the repositories are cloned and the scripts' effects are in the volume.
    listing = run_inside(notebook_aws, name, "sh", "-c", "pwd; ls; cat on-create.txt; wc -l < on-start.txt")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.split()
    assert lines[0].endswith("/SageMaker")
    volume = Path(lines[0])
    assert _running(f"sleep {BACKGROUND_SLEEP}")  # a script's background job outlives the script
    assert {"analysis", "helpers", "on-create.txt", "on-start.txt"} <= set(lines)
    assert listing.stdout.count("created") == 1 and lines[-1] == "1"
    assert run_inside(notebook_aws, name, "cat", "analysis/README.md").stdout == "# analysis\n"
    # The volume's used space is reported (and flagged past VolumeSizeInGB).
    assert (
        run_inside(notebook_aws, name, "sh", "-c", "head -c 3000000 /dev/urandom > data.bin").returncode == 0
    )
    with urllib.request.urlopen(notebook_aws.server.endpoint_url + "/_sagelocal/notebooks") as reply:
        volumes = {v["NotebookInstanceName"]: v for v in json.load(reply)["NotebookInstances"]}
    assert volumes[name]["VolumeSizeInGB"] == 5 and volumes[name]["OverVolumeSize"] is False
    assert 3_000_000 <= volumes[name]["VolumeUsedBytes"] < 4_000_000
    logs = notebook_aws.client("logs")
    assert "on-create ran" in log_messages(logs, f"{name}/LifecycleConfigOnCreate")
    assert any(m.startswith("on-start ran as") for m in log_messages(logs, f"{name}/LifecycleConfigOnStart"))

    # Illegal transitions while InService.
    code, message = error_of(sm.delete_notebook_instance, NotebookInstanceName=name)
    assert (code, message) == (
        "ValidationException",
        transition(arn, "InService", "Stopped, Failed", "Deleting"),
    )
    code, message = error_of(sm.start_notebook_instance, NotebookInstanceName=name)
    assert message == transition(arn, "InService", "Stopped, Failed", "Pending")
    code, message = error_of(sm.update_notebook_instance, NotebookInstanceName=name, VolumeSizeInGB=10)
    assert message == transition(arn, "InService", "Stopped", "Updating")

    sm.stop_notebook_instance(NotebookInstanceName=name)
    wait(sm, "notebook_instance_stopped", name)
    code, message = error_of(sm.stop_notebook_instance, NotebookInstanceName=name)
    assert message == transition(arn, "Stopped", "InService", "Stopping")
    assert not _running(f"sleep {BACKGROUND_SLEEP}")  # ... but not the instance's stop
    assert run_inside(notebook_aws, name, "true").returncode == 2  # not InService: nothing runs

    # Update while stopped: the volume may grow, never shrink.
    sm.update_notebook_instance(NotebookInstanceName=name, VolumeSizeInGB=10, InstanceType="ml.t2.medium")
    wait(sm, "notebook_instance_stopped", name)
    desc = sm.describe_notebook_instance(NotebookInstanceName=name)
    assert (desc["VolumeSizeInGB"], desc["InstanceType"]) == (10, "ml.t2.medium")
    code, message = error_of(sm.update_notebook_instance, NotebookInstanceName=name, VolumeSizeInGB=5)
    assert code == "ValidationException" and "can only be increased" in message

    # Start again: OnStart runs again, OnCreate does not, the volume kept everything.
    sm.start_notebook_instance(NotebookInstanceName=name)
    wait(sm, "notebook_instance_in_service", name)
    again = run_inside(notebook_aws, name, "sh", "-c", "wc -l < on-create.txt; wc -l < on-start.txt")
    assert again.stdout.split() == ["1", "2"]

    sm.stop_notebook_instance(NotebookInstanceName=name)
    wait(sm, "notebook_instance_stopped", name)
    sm.delete_notebook_instance(NotebookInstanceName=name)
    wait(sm, "notebook_instance_deleted", name)
    code, message = error_of(sm.describe_notebook_instance, NotebookInstanceName=name)
    assert code == "ValidationException" and message.startswith("RecordNotFound")
    assert name not in [n["NotebookInstanceName"] for n in sm.list_notebook_instances()["NotebookInstances"]]
    assert volume.parent.parent == notebook_aws.server.home / "notebooks" and not volume.parent.exists()


def test_failures_end_failed_with_aws_reasons(notebook_aws: AwsClients, sm: Any, role: str) -> None:
    failing = lifecycle_config(sm, on_start="echo about to fail\nexit 3\n")
    slow = lifecycle_config(sm, on_create="echo sleeping\nsleep 60\n")
    cases = {
        unique("nb-fail"): {"LifecycleConfigName": failing},
        unique("nb-slow"): {"LifecycleConfigName": slow},
        unique("nb-git"): {"DefaultCodeRepository": "file:///nonexistent/repository.git"},
    }
    for name, extra in cases.items():
        sm.create_notebook_instance(
            NotebookInstanceName=name, InstanceType="ml.t2.medium", RoleArn=role, **extra
        )
    logs = notebook_aws.client("logs")
    for name, extra in cases.items():
        with pytest.raises(Exception, match="Failed"):
            wait(sm, "notebook_instance_in_service", name)
        desc = sm.describe_notebook_instance(NotebookInstanceName=name)
        assert desc["NotebookInstanceStatus"] == "Failed"
        reason = desc["FailureReason"]
        if "LifecycleConfigName" in extra:
            lcc_arn = sm.describe_notebook_instance_lifecycle_config(
                NotebookInstanceLifecycleConfigName=extra["LifecycleConfigName"]
            )["NotebookInstanceLifecycleConfigArn"]
            assert reason == (
                f"Notebook Instance Lifecycle Config '{lcc_arn}' for Notebook Instance '{desc['NotebookInstanceArn']}' "
                "took longer than 5 minutes. Please check your CloudWatch logs for more details if your "
                "Notebook Instance has Internet access."
            )
        else:
            assert reason.startswith("Failed to clone Git repository file:///nonexistent/repository.git: ")
    fail_name, slow_name = list(cases)[:2]
    assert log_messages(logs, f"{fail_name}/LifecycleConfigOnStart")[-2:] == [
        "about to fail",
        "Lifecycle script OnStart exited with code 3.",
    ]
    assert "ran longer than 4 seconds" in log_messages(logs, f"{slow_name}/LifecycleConfigOnCreate")[-1]
    # A Failed instance may be deleted (or started again).
    for name in cases:
        sm.delete_notebook_instance(NotebookInstanceName=name)
    for name in cases:
        wait(sm, "notebook_instance_deleted", name)


def test_create_validation(notebook_aws: AwsClients, sm: Any, role: str) -> None:
    iam = notebook_aws.client("iam")
    untrusting = iam.create_role(
        RoleName=unique("not-sagemaker"),
        AssumeRolePolicyDocument=TRUST.replace("sagemaker.amazonaws.com", "ec2.amazonaws.com"),
    )["Role"]["Arn"]
    base = {"InstanceType": "ml.t2.medium", "RoleArn": role}
    code, message = error_of(
        sm.create_notebook_instance, NotebookInstanceName=unique("nb"), **base | {"RoleArn": untrusting}
    )
    assert (code, message) == (
        "ValidationException",
        f"Could not assume role {untrusting}. Please ensure that the role exists and allows principal "
        "'sagemaker.amazonaws.com' to assume the role.",
    )
    code, message = error_of(sm.create_notebook_instance, NotebookInstanceName="bad_name", **base)
    assert message == (
        "1 validation error detected: Value 'bad_name' at 'notebookInstanceName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*"
    )
    code, message = error_of(sm.create_notebook_instance, NotebookInstanceName="n" * 64, **base)
    assert "Member must have length less than or equal to 63" in message
    unchecked = notebook_aws.client("sagemaker", config=Config(parameter_validation=False))
    code, message = error_of(  # past botocore's own check, to the server's
        unchecked.create_notebook_instance, NotebookInstanceName=unique("nb"), **base, VolumeSizeInGB=4
    )
    assert message.endswith(
        "'volumeSizeInGB' failed to satisfy constraint: Member must have value greater than or equal to 5"
    )
    code, message = error_of(
        sm.create_notebook_instance,
        NotebookInstanceName=unique("nb"),
        **base | {"InstanceType": "ml.m5.large"},
    )
    assert "Member must satisfy enum value set" in message
    code, message = error_of(
        sm.create_notebook_instance,
        NotebookInstanceName=unique("nb"),
        **base,
        DirectInternetAccess="Disabled",
    )
    assert code == "ValidationException" and "SubnetId" in message
    code, message = error_of(
        sm.create_notebook_instance,
        NotebookInstanceName=unique("nb"),
        **base,
        PlatformIdentifier="notebook-al2-v1",
    )
    assert message == "Platform identifier (notebook-al2-v1) is not supported for this service."
    code, message = error_of(
        sm.create_notebook_instance,
        NotebookInstanceName=unique("nb"),
        **base,
        LifecycleConfigName="no-such-lcc",
    )
    assert re.fullmatch(
        r"Unable to describe Notebook Instance Lifecycle Config arn:aws:sagemaker:[a-z0-9-]+:\d{12}:"
        r"notebook-instance-lifecycle-config/no-such-lcc\. \(Details: Notebook Instance Lifecycle Config does not exist\.\)",
        message,
    )
    code, message = error_of(sm.describe_notebook_instance, NotebookInstanceName="never-created")
    assert (code, message) == ("ValidationException", "RecordNotFound")
    # Nothing was stored by any refused create.
    names = [
        n["NotebookInstanceName"] for n in sm.list_notebook_instances(NameContains="bad")["NotebookInstances"]
    ]
    assert names == []


def test_list_filters_sorting_and_duplicates(notebook_aws: AwsClients, sm: Any, role: str) -> None:
    lcc = lifecycle_config(sm, on_start="true")
    prefix = unique("lst")
    names = [f"{prefix}-{i}" for i in range(3)]
    for i, name in enumerate(names):
        extra = {"LifecycleConfigName": lcc} if i == 1 else {}
        sm.create_notebook_instance(
            NotebookInstanceName=name, InstanceType="ml.t2.medium", RoleArn=role, **extra
        )
    code, message = error_of(
        sm.create_notebook_instance,
        NotebookInstanceName=names[0].upper(),
        InstanceType="ml.t2.medium",
        RoleArn=role,
    )
    arn0 = sm.describe_notebook_instance(NotebookInstanceName=names[0])["NotebookInstanceArn"]
    assert (code, message) == ("ValidationException", f"Cannot create a duplicate Notebook Instance ({arn0})")
    for name in names:
        wait(sm, "notebook_instance_in_service", name)

    listed = sm.list_notebook_instances(NameContains=prefix, SortBy="Name", SortOrder="Descending")
    assert [n["NotebookInstanceName"] for n in listed["NotebookInstances"]] == names[::-1]
    first = listed["NotebookInstances"][0]
    assert {"NotebookInstanceArn", "NotebookInstanceStatus", "Url", "InstanceType", "CreationTime"} <= set(
        first
    )
    only = sm.list_notebook_instances(NameContains=prefix, NotebookInstanceLifecycleConfigNameContains=lcc)
    assert [n["NotebookInstanceName"] for n in only["NotebookInstances"]] == [names[1]]
    # The operation's own filters apply before paging, and Name is the default sort.
    one = sm.list_notebook_instances(
        NameContains=prefix, NotebookInstanceLifecycleConfigNameContains=lcc, MaxResults=1
    )
    assert [n["NotebookInstanceName"] for n in one["NotebookInstances"]] == [
        names[1]
    ] and "NextToken" not in one
    default = sm.list_notebook_instances(NameContains=prefix)["NotebookInstances"]
    assert [n["NotebookInstanceName"] for n in default] == names
    page = sm.list_notebook_instances(NameContains=prefix, MaxResults=2, SortBy="CreationTime")
    assert [n["NotebookInstanceName"] for n in page["NotebookInstances"]] == names[:2]
    rest = sm.list_notebook_instances(
        NameContains=prefix, MaxResults=2, SortBy="CreationTime", NextToken=page["NextToken"]
    )
    assert [n["NotebookInstanceName"] for n in rest["NotebookInstances"]] == names[2:]

    sm.stop_notebook_instance(NotebookInstanceName=names[0])
    wait(sm, "notebook_instance_stopped", names[0])
    stopped = sm.list_notebook_instances(NameContains=prefix, StatusEquals="Stopped")["NotebookInstances"]
    assert [n["NotebookInstanceName"] for n in stopped] == [names[0]]
    cli = notebook_aws.cli_json("sagemaker", "list-notebook-instances", "--name-contains", prefix)
    assert sorted(n["NotebookInstanceName"] for n in cli["NotebookInstances"]) == names
    for name in names[1:]:
        sm.stop_notebook_instance(NotebookInstanceName=name)
    for name in names:
        wait(sm, "notebook_instance_stopped", name)
    # A lifecycle configuration deleted while in use can still be disassociated (then it starts).
    sm.delete_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=lcc)
    sm.update_notebook_instance(NotebookInstanceName=names[1], DisassociateLifecycleConfig=True)
    wait(sm, "notebook_instance_stopped", names[1])
    assert "NotebookInstanceLifecycleConfigName" not in sm.describe_notebook_instance(
        NotebookInstanceName=names[1]
    )
    for name in names:
        sm.delete_notebook_instance(NotebookInstanceName=name)
