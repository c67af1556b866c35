"""Notebook instance lifecycle configurations and code repositories through the real server with
boto3: shapes, listing (filters, sorting, paging), updates, tags, and AWS's messages for
missing and duplicate resources."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import AwsClients
from tests.integration.hosting_support import unique

LCC_KIND = "notebook-instance-lifecycle-config"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:git-creds-AbCdEf"


@pytest.fixture(scope="module")
def sm(aws: AwsClients) -> Any:
    return aws.client("sagemaker")


@pytest.fixture(scope="module")
def arn_prefix(sm: Any, aws: AwsClients) -> str:
    account = aws.client("sts").get_caller_identity()["Account"]
    return f"arn:aws:sagemaker:{sm.meta.region_name}:{account}"


def _error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def _b64(script: str) -> str:
    return base64.b64encode(script.encode()).decode()


def _lcc_names(sm: Any, **kwargs: Any) -> list[str]:
    page = sm.list_notebook_instance_lifecycle_configs(**kwargs)
    return [c["NotebookInstanceLifecycleConfigName"] for c in page["NotebookInstanceLifecycleConfigs"]]


def _repo_names(sm: Any, **kwargs: Any) -> list[str]:
    return [r["CodeRepositoryName"] for r in sm.list_code_repositories(**kwargs)["CodeRepositorySummaryList"]]


# Lifecycle configurations.
def test_lifecycle_config_create_describe_update_delete(sm: Any, arn_prefix: str) -> None:
    name = unique("Lcc-Mixed")
    on_create, on_start = "#!/bin/bash\necho created > /tmp/c\n", "#!/bin/bash\necho 'started ✓'\n"
    arn = sm.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name,
        OnCreate=[{"Content": _b64(on_create)}],
        OnStart=[{"Content": _b64(on_start)}],
        Tags=[{"Key": "team", "Value": "ml"}],
    )["NotebookInstanceLifecycleConfigArn"]
    assert arn == f"{arn_prefix}:{LCC_KIND}/{name.lower()}"

    desc = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name.upper())
    assert desc["NotebookInstanceLifecycleConfigName"] == name  # any case finds it; the name keeps its own
    assert desc["NotebookInstanceLifecycleConfigArn"] == arn
    assert desc["OnCreate"] == [{"Content": _b64(on_create)}]
    assert base64.b64decode(desc["OnStart"][0]["Content"]).decode() == on_start
    assert desc["LastModifiedTime"] == desc["CreationTime"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    assert _error(sm.create_notebook_instance_lifecycle_config, NotebookInstanceLifecycleConfigName=name) == (
        "ValidationException",
        f"Unable to create Notebook Instance Lifecycle Config {arn}. "
        "(Details: Notebook Instance Lifecycle Config already exists.)",
    )

    time.sleep(0.05)
    new_start = "#!/bin/bash\necho again\n"
    assert (
        sm.update_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=name, OnStart=[{"Content": _b64(new_start)}]
        )["ResponseMetadata"]["HTTPStatusCode"]
        == 200
    )
    updated = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    assert updated["OnStart"] == [{"Content": _b64(new_start)}]
    assert updated["OnCreate"] == desc["OnCreate"]  # not given: kept
    assert updated["CreationTime"] == desc["CreationTime"]
    assert updated["LastModifiedTime"] > desc["LastModifiedTime"]

    sm.update_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name, OnCreate=[])
    cleared = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    assert "OnCreate" not in cleared and cleared["OnStart"] == updated["OnStart"]

    sm.delete_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    missing = "(Details: Notebook Instance Lifecycle Config does not exist.)"
    for verb, call in (
        ("describe", sm.describe_notebook_instance_lifecycle_config),
        ("delete", sm.delete_notebook_instance_lifecycle_config),
        ("update", sm.update_notebook_instance_lifecycle_config),
    ):
        assert _error(call, NotebookInstanceLifecycleConfigName=name) == (
            "ValidationException",
            f"Unable to {verb} Notebook Instance Lifecycle Config {arn}. {missing}",
        )
    assert name not in _lcc_names(sm, NameContains=name)


def test_lifecycle_config_without_scripts(sm: Any) -> None:
    name = unique("lcc-empty")
    sm.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    desc = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    assert "OnCreate" not in desc and "OnStart" not in desc
    assert sm.list_tags(ResourceArn=desc["NotebookInstanceLifecycleConfigArn"])["Tags"] == []


def test_lifecycle_content_must_be_base64(sm: Any) -> None:
    name = unique("lcc-b64")
    assert _error(
        sm.create_notebook_instance_lifecycle_config,
        NotebookInstanceLifecycleConfigName=name,
        OnStart=[{"Content": "#!/bin/bash\necho not encoded"}],
    ) == ("ValidationException", "OnStart content must be a base64-encoded string.")
    assert name not in _lcc_names(sm, NameContains=name)  # nothing was created

    # Line-wrapped base64 (what `base64` prints by default) is accepted as is.
    script = "#!/bin/bash\n" + "echo a long line of text to wrap\n" * 5
    encoded = _b64(script)
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"
    sm.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name, OnCreate=[{"Content": wrapped}]
    )
    desc = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    assert base64.b64decode(desc["OnCreate"][0]["Content"]).decode() == script

    assert _error(
        sm.update_notebook_instance_lifecycle_config,
        NotebookInstanceLifecycleConfigName=name,
        OnCreate=[{"Content": "abc$"}],
    ) == ("ValidationException", "OnCreate content must be a base64-encoded string.")
    after = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    assert after["OnCreate"] == desc["OnCreate"] and after["LastModifiedTime"] == desc["LastModifiedTime"]


def test_lifecycle_config_name_and_content_constraints(sm: Any) -> None:
    code, message = _error(
        sm.create_notebook_instance_lifecycle_config, NotebookInstanceLifecycleConfigName="x_y"
    )
    assert code == "ValidationException"
    assert message == (
        "1 validation error detected: Value 'x_y' at 'notebookInstanceLifecycleConfigName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*"
    )
    code, message = _error(
        sm.create_notebook_instance_lifecycle_config,
        NotebookInstanceLifecycleConfigName=unique("lcc-long"),
        OnStart=[{"Content": "A" * 16388}],
    )
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 16384" in message


def test_list_lifecycle_configs_filters_sorts_and_pages(sm: Any) -> None:
    base = unique("lcclist")
    # Created b, a, c (in that order); b is then updated, so it is the last modified.
    for suffix in ("b", "a", "c"):
        sm.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=f"{base}-{suffix}")
    time.sleep(1.1)  # List filters travel with whole-second precision
    sm.update_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=f"{base}-b", OnStart=[{"Content": _b64("echo hi\n")}]
    )
    b, a, c = f"{base}-b", f"{base}-a", f"{base}-c"

    page = sm.list_notebook_instance_lifecycle_configs(NameContains=base)["NotebookInstanceLifecycleConfigs"]
    assert [s["NotebookInstanceLifecycleConfigName"] for s in page] == [c, a, b]  # CreationTime, newest first
    assert set(page[0]) == {
        "NotebookInstanceLifecycleConfigName",
        "NotebookInstanceLifecycleConfigArn",
        "CreationTime",
        "LastModifiedTime",
    }
    assert _lcc_names(sm, NameContains=base, SortOrder="Ascending") == [b, a, c]
    assert _lcc_names(sm, NameContains=base, SortBy="Name", SortOrder="Ascending") == [a, b, c]
    assert _lcc_names(sm, NameContains=base, SortBy="Name", SortOrder="Descending") == [c, b, a]
    assert _lcc_names(sm, NameContains=base, SortBy="LastModifiedTime", SortOrder="Ascending") == [a, c, b]
    assert _lcc_names(sm, NameContains=base.upper()) == [c, a, b]  # NameContains ignores case

    first = sm.list_notebook_instance_lifecycle_configs(
        NameContains=base, SortBy="Name", SortOrder="Ascending", MaxResults=2
    )
    assert [s["NotebookInstanceLifecycleConfigName"] for s in first["NotebookInstanceLifecycleConfigs"]] == [
        a,
        b,
    ]
    second = sm.list_notebook_instance_lifecycle_configs(
        NameContains=base, SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=first["NextToken"]
    )
    assert [s["NotebookInstanceLifecycleConfigName"] for s in second["NotebookInstanceLifecycleConfigs"]] == [
        c
    ]
    assert "NextToken" not in second
    paginated = sm.get_paginator("list_notebook_instance_lifecycle_configs").paginate(
        NameContains=base, SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 1}
    )
    assert [
        s["NotebookInstanceLifecycleConfigName"]
        for s in paginated.search("NotebookInstanceLifecycleConfigs[]")
    ] == [
        a,
        b,
        c,
    ]

    created = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=a)[
        "CreationTime"
    ]
    hour = timedelta(hours=1)
    assert _lcc_names(sm, NameContains=base, CreationTimeBefore=created - hour) == []
    assert _lcc_names(sm, NameContains=base, CreationTimeAfter=created - hour) == [c, a, b]
    assert _lcc_names(sm, NameContains=base, CreationTimeAfter=created + hour) == []
    assert _lcc_names(sm, NameContains=base, CreationTimeBefore=created + hour) == [c, a, b]
    modified = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=b)[
        "LastModifiedTime"
    ]
    bound = modified.replace(microsecond=0)  # after a's and c's modification, before b's
    assert _lcc_names(sm, NameContains=base, LastModifiedTimeAfter=bound) == [b]
    assert _lcc_names(sm, NameContains=base, LastModifiedTimeBefore=bound) == [c, a]


def test_lifecycle_config_tags(sm: Any) -> None:
    name = unique("lcc-tags")
    arn = sm.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name, Tags=[{"Key": "a", "Value": "1"}]
    )["NotebookInstanceLifecycleConfigArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "one"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "one"}, {"Key": "b", "Value": "2"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["a"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    sm.delete_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    assert _error(sm.list_tags, ResourceArn=arn)[0] == "ValidationException"


# Code repositories.
def test_code_repository_create_describe_update_delete(sm: Any, arn_prefix: str) -> None:
    name = unique("Repo-Mixed")
    git = {"RepositoryUrl": "https://github.com/example/project.git", "Branch": "main"}
    arn = sm.create_code_repository(
        CodeRepositoryName=name, GitConfig=git, Tags=[{"Key": "team", "Value": "ml"}]
    )["CodeRepositoryArn"]
    assert arn == f"{arn_prefix}:code-repository/{name.lower()}"

    desc = sm.describe_code_repository(CodeRepositoryName=name.lower())
    assert desc["CodeRepositoryName"] == name and desc["CodeRepositoryArn"] == arn
    assert desc["GitConfig"] == git
    assert desc["LastModifiedTime"] == desc["CreationTime"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    assert _error(sm.create_code_repository, CodeRepositoryName=name, GitConfig=git) == (
        "ValidationException",
        f'Cannot create already existing code repository "{arn}".',
    )

    time.sleep(0.05)
    assert (
        sm.update_code_repository(CodeRepositoryName=name, GitConfig={"SecretArn": SECRET})[
            "CodeRepositoryArn"
        ]
        == arn
    )
    updated = sm.describe_code_repository(CodeRepositoryName=name)
    assert updated["GitConfig"] == git | {"SecretArn": SECRET}  # the URL and branch are kept
    assert updated["CreationTime"] == desc["CreationTime"]
    assert updated["LastModifiedTime"] > desc["LastModifiedTime"]

    sm.delete_code_repository(CodeRepositoryName=name)
    missing = ("ValidationException", f'Cannot find CodeRepository "{arn}".')
    assert _error(sm.describe_code_repository, CodeRepositoryName=name) == missing
    assert _error(sm.delete_code_repository, CodeRepositoryName=name) == missing
    assert (
        _error(sm.update_code_repository, CodeRepositoryName=name, GitConfig={"SecretArn": SECRET}) == missing
    )
    assert name not in _repo_names(sm, NameContains=name)


def test_code_repository_local_url_and_constraints(sm: Any, tmp_path: Any) -> None:
    name = unique("repo-local")
    url = f"file://{tmp_path}/project.git"
    sm.create_code_repository(CodeRepositoryName=name, GitConfig={"RepositoryUrl": url})
    assert sm.describe_code_repository(CodeRepositoryName=name)["GitConfig"] == {"RepositoryUrl": url}

    code, message = _error(
        sm.create_code_repository, CodeRepositoryName="bad_name", GitConfig={"RepositoryUrl": url}
    )
    assert code == "ValidationException"
    assert message.startswith(
        "1 validation error detected: Value 'bad_name' at 'codeRepositoryName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: "
    )
    code, message = _error(
        sm.create_code_repository,
        CodeRepositoryName=unique("repo"),
        GitConfig={"RepositoryUrl": "ftp://host/x.git"},
    )
    assert code == "ValidationException" and "'gitConfig.repositoryUrl'" in message


def test_list_code_repositories_filters_sorts_and_pages(sm: Any) -> None:
    base = unique("repolist")
    git = {"RepositoryUrl": "https://git.example.com/team/project.git"}
    for suffix in ("b", "a", "c"):
        sm.create_code_repository(CodeRepositoryName=f"{base}-{suffix}", GitConfig=git)
    time.sleep(1.1)  # List filters travel with whole-second precision
    sm.update_code_repository(CodeRepositoryName=f"{base}-b", GitConfig={"SecretArn": SECRET})
    b, a, c = f"{base}-b", f"{base}-a", f"{base}-c"

    summaries = sm.list_code_repositories(NameContains=base)["CodeRepositorySummaryList"]
    assert [s["CodeRepositoryName"] for s in summaries] == [a, b, c]  # default: Name, Ascending
    assert set(summaries[0]) == {
        "CodeRepositoryName",
        "CodeRepositoryArn",
        "CreationTime",
        "LastModifiedTime",
        "GitConfig",
    }
    assert summaries[0]["GitConfig"] == git and summaries[1]["GitConfig"] == git | {"SecretArn": SECRET}
    assert _repo_names(sm, NameContains=base, SortOrder="Descending") == [c, b, a]
    assert _repo_names(sm, NameContains=base, SortBy="CreationTime") == [b, a, c]
    assert _repo_names(sm, NameContains=base, SortBy="CreationTime", SortOrder="Descending") == [c, a, b]
    assert _repo_names(sm, NameContains=base, SortBy="LastModifiedTime") == [a, c, b]

    first = sm.list_code_repositories(NameContains=base, MaxResults=2)
    assert [s["CodeRepositoryName"] for s in first["CodeRepositorySummaryList"]] == [a, b]
    second = sm.list_code_repositories(NameContains=base, MaxResults=2, NextToken=first["NextToken"])
    assert [s["CodeRepositoryName"] for s in second["CodeRepositorySummaryList"]] == [c]
    assert "NextToken" not in second

    created = sm.describe_code_repository(CodeRepositoryName=a)["CreationTime"]
    hour = timedelta(hours=1)
    assert _repo_names(sm, NameContains=base, CreationTimeBefore=created - hour) == []
    assert _repo_names(sm, NameContains=base, CreationTimeAfter=created - hour) == [a, b, c]
    assert _repo_names(sm, NameContains=base, CreationTimeAfter=created + hour) == []
    bound = sm.describe_code_repository(CodeRepositoryName=b)["LastModifiedTime"].replace(microsecond=0)
    assert _repo_names(sm, NameContains=base, LastModifiedTimeAfter=bound) == [b]
    assert _repo_names(sm, NameContains=base, LastModifiedTimeBefore=bound) == [a, c]


def test_code_repository_tags(sm: Any) -> None:
    name = unique("repo-tags")
    arn = sm.create_code_repository(
        CodeRepositoryName=name, GitConfig={"RepositoryUrl": "https://github.com/example/tags.git"}
    )["CodeRepositoryArn"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["env"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []
