"""S3 through the other clients the workflow uses unchanged: s3fs, pandas and the SageMaker SDK v2."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import s3fs

import sagelocal
from tests.conftest import AwsClients
from tests.integration.s3_support import (
    MiB,
    bucket_names,
    delete_bucket,
    random_bytes,
    read_body,
    s3_error,
    unique_bucket,
)

BANK_CSV = Path(sagelocal.__file__).parent / "data" / "bank-marketing" / "bank-additional.csv"


BUCKET_PREFIX = "cl"  # the shared `bucket` fixture (tests/integration/conftest.py) names buckets with it


@pytest.fixture(scope="module")
def storage_options(aws: AwsClients) -> dict[str, Any]:
    return {
        "key": aws.creds["aws_access_key_id"],
        "secret": aws.creds["aws_secret_access_key"],
        "client_kwargs": {"endpoint_url": aws.server.endpoint_url, "region_name": aws.server.region},
    }


@pytest.fixture
def bank_csv() -> Path:
    if not BANK_CSV.is_file():
        pytest.skip(f"bank-marketing data not found at {BANK_CSV} (CI keeps ../shared beside the repo)")
    return BANK_CSV


# ---- pandas ---------------------------------------------------------------------------------------


def test_pandas_read_csv_and_to_csv_round_trip(
    s3: Any, bucket: str, bank_csv: Path, storage_options: dict[str, Any]
) -> None:
    s3.upload_file(str(bank_csv), bucket, "bank/bank-additional.csv")
    local = pd.read_csv(bank_csv, sep=";")
    remote = pd.read_csv(f"s3://{bucket}/bank/bank-additional.csv", sep=";", storage_options=storage_options)
    pd.testing.assert_frame_equal(remote, local)
    assert len(remote) == 4119 and "y" in remote.columns

    train = local.sample(frac=0.7, random_state=1729)
    train.to_csv(f"s3://{bucket}/bank/train/train.csv", index=False, storage_options=storage_options)
    assert read_body(s3, bucket, "bank/train/train.csv") == train.to_csv(index=False).encode()
    back = pd.read_csv(f"s3://{bucket}/bank/train/train.csv", storage_options=storage_options)
    pd.testing.assert_frame_equal(back, train.reset_index(drop=True))


# ---- s3fs -----------------------------------------------------------------------------------------


def test_s3fs_ls_open_put_get(
    aws: AwsClients, s3: Any, bucket: str, tmp_path: Path, storage_options: dict[str, Any]
) -> None:
    fs = s3fs.S3FileSystem(**storage_options, skip_instance_cache=True)
    local = tmp_path / "up.bin"
    data = random_bytes(2 * MiB + 5, seed=41)
    local.write_bytes(data)
    fs.put(str(local), f"{bucket}/dir/up.bin")
    assert read_body(s3, bucket, "dir/up.bin") == data

    with fs.open(f"{bucket}/dir/sub/written.txt", "wb") as fh:
        fh.write(b"written through s3fs\n" * 10)
    with fs.open(f"{bucket}/dir/sub/written.txt", "rb") as fh:
        assert fh.read() == b"written through s3fs\n" * 10
    with fs.open(f"{bucket}/dir/up.bin", "rb", block_size=64 * 1024) as fh:  # ranged reads
        fh.seek(MiB)
        assert fh.read(100) == data[MiB : MiB + 100]

    s3.put_object(Bucket=bucket, Key="top.txt", Body=b"top")
    fs.invalidate_cache()
    assert sorted(fs.ls(bucket)) == [f"{bucket}/dir", f"{bucket}/top.txt"]
    assert sorted(fs.ls(f"{bucket}/dir")) == [f"{bucket}/dir/sub", f"{bucket}/dir/up.bin"]
    assert sorted(fs.find(bucket)) == [
        f"{bucket}/dir/sub/written.txt",
        f"{bucket}/dir/up.bin",
        f"{bucket}/top.txt",
    ]
    info = fs.info(f"{bucket}/dir/up.bin")
    assert info["size"] == len(data) and info["type"] == "file"
    assert fs.isdir(f"{bucket}/dir") and not fs.exists(f"{bucket}/nope")

    got = tmp_path / "got.bin"
    fs.get(f"{bucket}/dir/up.bin", str(got))
    assert got.read_bytes() == data

    fs.rm(f"{bucket}/dir", recursive=True)
    fs.invalidate_cache()
    assert fs.find(bucket) == [f"{bucket}/top.txt"]

    new = unique_bucket("fs")
    try:
        fs.mkdir(new)
        assert new in bucket_names(s3)
        assert s3.get_bucket_location(Bucket=new)["LocationConstraint"] == aws.server.region
    finally:
        delete_bucket(s3, new)


def test_s3fs_pandas_with_file_object(s3: Any, bucket: str, storage_options: dict[str, Any]) -> None:
    """The form notebooks use: open the object with s3fs and hand pandas the file."""
    fs = s3fs.S3FileSystem(**storage_options, skip_instance_cache=True)
    frame = pd.DataFrame({"a": range(1000), "b": [f"row {i}" for i in range(1000)]})
    with fs.open(f"{bucket}/f.csv", "w") as fh:
        frame.to_csv(fh, index=False)
    with fs.open(f"{bucket}/f.csv", "rb") as fh:
        pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(fh.read())), frame)


# ---- SageMaker SDK v2 -------------------------------------------------------------------------------

SDK_SCRIPT = """
import sys
import sagelocal.compat.sagemaker_sdk
import sagemaker

session = sagemaker.Session()
bucket = session.default_bucket()
uri = session.upload_data(sys.argv[1], key_prefix="sagelocal-test/train")
again = sagemaker.Session().default_bucket()   # the bucket now exists: the owner-check path
print(bucket)
print(uri)
print(again)
"""


def test_sagemaker_sdk_default_bucket_and_upload_data(aws: AwsClients, s3: Any, tmp_path: Path) -> None:
    account = str(aws.server.health()["account_id"])  # type: ignore[index]
    expected = f"sagemaker-{aws.server.region}-{account}"
    delete_bucket(s3, expected)  # first use must create it
    with s3_error("404", 404):
        s3.head_bucket(Bucket=expected)

    data = tmp_path / "train.csv"
    data.write_bytes(b"1,0.5,0.25\n0,0.1,0.9\n" * 500)
    env = aws.env | {"SAGEMAKER_SUPPRESS_V2_WARNING": "1", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, str(data)], env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    bucket, uri, again = proc.stdout.split()[-3:]
    assert bucket == again == expected
    assert uri == f"s3://{expected}/sagelocal-test/train/train.csv"
    try:
        assert (
            s3.head_bucket(Bucket=expected, ExpectedBucketOwner=account)["BucketRegion"] == aws.server.region
        )
        assert read_body(s3, expected, "sagelocal-test/train/train.csv") == data.read_bytes()
    finally:
        delete_bucket(s3, expected)
