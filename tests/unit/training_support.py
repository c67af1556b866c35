"""Support for the training-job unit tests: the API on a temp store with a recording launcher,
a role trusting SageMaker, and every result checked against botocore's SageMaker model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.validate import ParamValidator

from sagelocal.services.base import RequestContext
from sagelocal.services.iam.identity import RoleRecord
from sagelocal.services.sagemaker.training import TrainingJobs
from sagelocal.store.models.sagemaker import TrainingJob
from tests.unit.iam_helpers import ACCOUNT, TRUST_SAGEMAKER, check_shape, make_client

REGION = "ap-northeast-1"
IMAGE = "354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SM_MODEL = botocore.session.get_session().get_service_model("sagemaker")
OPERATIONS = {xform_name(name): name for name in SM_MODEL.operation_names}


def ctx(operation: str = "Test") -> RequestContext:
    return RequestContext("sagemaker", operation, REGION, ACCOUNT, None, "test-request")


class TrainingClient:
    """Calls TrainingJobs the way the gateway would, checking input and output against the model."""

    def __init__(self, tmp_path: Path) -> None:
        iam = make_client(tmp_path)
        self.db = iam.provider.db
        self.role_arn = iam.create_role(RoleName="SageMakerRole", AssumeRolePolicyDocument=TRUST_SAGEMAKER)[
            "Role"
        ]["Arn"]
        self.untrusted_arn = iam.create_role(
            RoleName="LambdaRole",
            AssumeRolePolicyDocument=TRUST_SAGEMAKER.replace(
                "sagemaker.amazonaws.com", "lambda.amazonaws.com"
            ),
        )["Role"]["Arn"]
        self.launched: list[tuple[TrainingJob, RoleRecord]] = []
        self.api = TrainingJobs(
            self.db, tmp_path / "jobs", lambda job, role: self.launched.append((job, role))
        )

    def __getattr__(self, snake: str) -> Callable[..., dict[str, Any]]:
        op = SM_MODEL.operation_model(OPERATIONS[snake])

        def call(**params: Any) -> dict[str, Any]:
            report = ParamValidator().validate(params, op.input_shape)
            assert not report.has_errors(), report.generate_report()
            result = getattr(self.api, snake)(ctx(op.name), params)
            if op.output_shape is not None:
                check_shape(op.output_shape, result, op.name)
            return result

        return call


def request(name: str, role_arn: str, **over: Any) -> dict[str, Any]:
    req: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": role_arn,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/train/"}},
                "ContentType": "text/csv",
            }
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://b/out/"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "HyperParameters": {"num_round": "10"},
    }
    return req | over
