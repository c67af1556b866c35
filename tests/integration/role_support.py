"""Execution roles for the tests that run jobs, endpoints and transforms: trusted by SageMaker and
by the account (so a test may act as the role), holding AmazonSageMakerFullAccess and
AmazonS3FullAccess (the tests' buckets are not all named *sagemaker*). IAM is enforced."""

from __future__ import annotations

import json
from typing import Any

POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
)


def trust(account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "Service": "sagemaker.amazonaws.com",
                        "AWS": f"arn:aws:iam::{account}:root",
                    },
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def sagemaker_role(iam: Any, account: str, name: str, policies: tuple[str, ...] = POLICIES) -> str:
    """Create the role `name` with `policies` attached; its ARN."""
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(account))["Role"]["Arn"]
    for policy in policies:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return str(role)
