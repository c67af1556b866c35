"""Models and endpoint configurations through the real server with boto3: shapes, listing,
tags, and AWS's messages for missing and duplicate resources."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import AwsClients
from tests.integration.hosting_support import IMAGE, make_role, unique

REGION = "ap-northeast-1"  # the test server's region


@pytest.fixture(scope="module")
def sm(aws: AwsClients) -> Any:
    return aws.client("sagemaker")


@pytest.fixture(scope="module")
def role(aws: AwsClients) -> str:
    return make_role(aws)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_model_create_describe_list_delete(sm: Any, role: str, aws: AwsClients) -> None:
    name = unique("Model-Mixed")
    url = "s3://sagemaker-bucket/m/model.tar.gz"
    arn = sm.create_model(
        ModelName=name,
        ExecutionRoleArn=role,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url},
        Tags=[{"Key": "team", "Value": "ml"}],
    )["ModelArn"]
    account = aws.client("sts").get_caller_identity()["Account"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{account}:model/{name.lower()}"
    desc = sm.describe_model(ModelName=name.upper())  # lookups ignore case, the name keeps it
    assert desc["ModelName"] == name and desc["ModelArn"] == arn
    assert desc["PrimaryContainer"] == {
        "Image": IMAGE,
        "ModelDataUrl": url,
        "Mode": "SingleModel",
        "Environment": {},
    }
    assert desc["ExecutionRoleArn"] == role and desc["EnableNetworkIsolation"] is False
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    with pytest.raises(ClientError) as exc:
        sm.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": IMAGE})
    assert _error(exc) == ("ValidationException", f'Cannot create already existing model "{arn}".')

    names = [m["ModelName"] for m in sm.list_models(NameContains=name[:12].lower())["Models"]]
    assert name in names
    sm.delete_model(ModelName=name)
    with pytest.raises(ClientError) as exc:
        sm.describe_model(ModelName=name)
    assert _error(exc) == ("ValidationException", f'Could not find model "{arn}".')
    with pytest.raises(ClientError) as exc:
        sm.delete_model(ModelName=name)
    assert _error(exc)[1] == f'Could not find model "{arn}".'


def test_model_role_must_trust_sagemaker(sm: Any, aws: AwsClients) -> None:
    account = aws.client("sts").get_caller_identity()["Account"]
    missing = f"arn:aws:iam::{account}:role/NoSuchRole"
    with pytest.raises(ClientError) as exc:
        sm.create_model(ModelName=unique("m"), ExecutionRoleArn=missing, PrimaryContainer={"Image": IMAGE})
    assert _error(exc)[1].startswith(f"Could not assume role {missing}.")


def test_list_models_sorts_and_pages(sm: Any, role: str) -> None:
    base = unique("pager")
    for i in range(3):
        sm.create_model(ModelName=f"{base}-{i}", ExecutionRoleArn=role, PrimaryContainer={"Image": IMAGE})
    newest_first = [m["ModelName"] for m in sm.list_models(NameContains=base)["Models"]]
    assert newest_first == [f"{base}-2", f"{base}-1", f"{base}-0"]  # default: CreationTime, Descending
    page1 = sm.list_models(NameContains=base, SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert [m["ModelName"] for m in page1["Models"]] == [f"{base}-0", f"{base}-1"]
    page2 = sm.list_models(
        NameContains=base, SortBy="Name", SortOrder="Ascending", NextToken=page1["NextToken"]
    )
    assert [m["ModelName"] for m in page2["Models"]] == [f"{base}-2"] and "NextToken" not in page2


def test_endpoint_config_needs_existing_models(sm: Any, role: str, aws: AwsClients) -> None:
    account = aws.client("sts").get_caller_identity()["Account"]
    model = unique("cfg-model")
    sm.create_model(ModelName=model, ExecutionRoleArn=role, PrimaryContainer={"Image": IMAGE})
    variant = {"VariantName": "AllTraffic", "InitialInstanceCount": 1, "InstanceType": "ml.m4.xlarge"}
    name = unique("Config")
    with pytest.raises(ClientError) as exc:
        sm.create_endpoint_config(
            EndpointConfigName=name, ProductionVariants=[variant | {"ModelName": "nope-x"}]
        )
    assert _error(exc) == (
        "ValidationException",
        f'Could not find model "arn:aws:sagemaker:{REGION}:{account}:model/nope-x".',
    )
    arn = sm.create_endpoint_config(
        EndpointConfigName=name, ProductionVariants=[variant | {"ModelName": model}]
    )["EndpointConfigArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{account}:endpoint-config/{name.lower()}"
    desc = sm.describe_endpoint_config(EndpointConfigName=name)
    assert desc["EndpointConfigName"] == name
    assert desc["ProductionVariants"] == [variant | {"ModelName": model, "InitialVariantWeight": 1.0}]
    with pytest.raises(ClientError) as exc:
        sm.create_endpoint_config(
            EndpointConfigName=name, ProductionVariants=[variant | {"ModelName": model}]
        )
    assert _error(exc)[1] == f'Cannot create already existing endpoint configuration "{arn}".'
    assert name in [
        c["EndpointConfigName"] for c in sm.list_endpoint_configs(NameContains=name)["EndpointConfigs"]
    ]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    sm.delete_endpoint_config(EndpointConfigName=name)
    with pytest.raises(ClientError) as exc:
        sm.describe_endpoint_config(EndpointConfigName=name)
    assert _error(exc) == ("ValidationException", f'Could not find endpoint configuration "{arn}".')


def test_create_endpoint_with_missing_config(sm: Any, aws: AwsClients) -> None:
    account = aws.client("sts").get_caller_identity()["Account"]
    with pytest.raises(ClientError) as exc:
        sm.create_endpoint(EndpointName=unique("ep"), EndpointConfigName="no-such-config")
    assert _error(exc) == (
        "ValidationException",
        f'Could not find endpoint configuration "arn:aws:sagemaker:{REGION}:{account}:endpoint-config/no-such-config".',
    )
    with pytest.raises(ClientError) as exc:
        sm.describe_endpoint(EndpointName="No-Such-Endpoint")
    assert _error(exc) == (
        "ValidationException",
        f'Could not find endpoint "arn:aws:sagemaker:{REGION}:{account}:endpoint/no-such-endpoint".',
    )
