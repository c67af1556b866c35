"""Fixtures the S3 test modules share: a boto3 S3 client, and a fresh bucket per test.

A module names its buckets by setting `BUCKET_PREFIX` (default "t")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import AwsClients
from tests.integration.s3_support import create_bucket, delete_bucket


@pytest.fixture(scope="module")
def s3(aws: AwsClients) -> Any:
    return aws.client("s3")


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    name = create_bucket(s3, prefix=getattr(request.module, "BUCKET_PREFIX", "t"))
    yield name
    delete_bucket(s3, name)
