"""Fixtures integration modules share: a boto3 S3 client, a fresh bucket per test, and the
bank-marketing data split the tutorial's way.

A module names its buckets by setting `BUCKET_PREFIX` (default "t")."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AwsClients
from tests.integration.bank_support import BANK_CSV
from tests.integration.s3_support import create_bucket, delete_bucket


@pytest.fixture(scope="module")
def s3(aws: AwsClients) -> Any:
    return aws.client("s3")


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    name = create_bucket(s3, prefix=getattr(request.module, "BUCKET_PREFIX", "t"))
    yield name
    delete_bucket(s3, name)


@pytest.fixture(scope="session")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """train.csv (70%) and test.csv (30%), written the tutorial's way."""
    pd = pytest.importorskip("pandas")
    if not BANK_CSV.exists():
        pytest.skip(f"shared bank-marketing data not found at {BANK_CSV}")
    frame = pd.get_dummies(pd.read_csv(BANK_CSV, sep=";"))
    frame = pd.concat([frame["y_yes"], frame.drop(["y_no", "y_yes"], axis=1)], axis=1).astype(float)
    shuffled = frame.sample(frac=1, random_state=1729)
    cut = int(0.7 * len(shuffled))
    root = tmp_path_factory.mktemp("bank")
    train, test = root / "train.csv", root / "test.csv"
    shuffled.iloc[:cut].to_csv(train, index=False, header=False)
    shuffled.iloc[cut:].to_csv(test, index=False, header=False)
    return train, test


@pytest.fixture(scope="session")
def notebook_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsClients]:
    """A server of its own for notebook instances, with short lifecycle and presigned-URL limits."""
    from sagelocal.launcher import ServerProcess
    from tests.integration.notebook_support import LIFECYCLE_TIMEOUT, URL_TTL

    home = tmp_path_factory.mktemp("notebook-home")
    env = dict(os.environ) | {
        "SAGELOCAL_NOTEBOOK_LIFECYCLE_TIMEOUT": str(LIFECYCLE_TIMEOUT),
        "SAGELOCAL_NOTEBOOK_URL_TTL": str(URL_TTL),
    }
    with (home.parent / "notebook-server.log").open("w") as log, ServerProcess(home, env=env, log=log) as srv:
        yield AwsClients(srv)
