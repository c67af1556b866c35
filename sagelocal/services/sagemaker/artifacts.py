"""Fetching a model's artifacts for its replicas: `ModelDataUrl` (a model.tar.gz, or a single
file) and a script-mode model's code (`SAGEMAKER_SUBMIT_DIRECTORY`), read from S3 with the
model's execution role, as SageMaker's hosting agent does, and unpacked into a directory.

A directory is complete once its `.sagelocal-complete` marker exists; a restarted server reuses
it instead of downloading again.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

MARKER = ".sagelocal-complete"
CONNECT_PATIENCE = 60.0  # a restarting server answers S3 only once it listens


class ArtifactError(Exception):
    """The artifact cannot be fetched; the message is the endpoint's FailureReason."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ArtifactError(f"Invalid S3 URI {uri}: expected s3://<bucket>/<key>.")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def s3_client(endpoint_url: str, region: str, credentials: dict[str, str]) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"}),
    )


def _download(s3: Any, uri: str, target: Path) -> None:
    bucket, key = split_s3_uri(uri)
    deadline = time.monotonic() + CONNECT_PATIENCE
    while True:
        try:
            s3.download_file(bucket, key, str(target))
            return
        except EndpointConnectionError:
            if time.monotonic() >= deadline:
                raise ArtifactError(f"Could not reach S3 to download {uri}.") from None
            time.sleep(0.5)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NoSuchBucket", "Not Found"):
                raise ArtifactError(
                    f"Could not find model data at {uri}. Please ensure that the object exists."
                ) from None
            if code in ("403", "AccessDenied", "Forbidden"):
                raise ArtifactError(
                    f"Access denied to model data at {uri}: the model's execution role may not read it."
                ) from None
            raise ArtifactError(f"Failed to download model data from {uri}: {exc}") from None


def unpack(s3: Any, uri: str, target: Path) -> Path:
    """Download `uri` and unpack it into `target` (a tar archive is extracted, any other file is
    placed as-is); a complete `target` is reused. Returns `target`."""
    if (target / MARKER).exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        archive = Path(tmp) / "artifact"
        _download(s3, uri, archive)
        if tarfile.is_tarfile(archive):
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(target, filter="data")
            except (tarfile.TarError, OSError) as exc:
                raise ArtifactError(f"Could not extract model data from {uri}: {exc}") from None
        else:
            shutil.move(archive, target / uri.rsplit("/", 1)[-1])
    (target / MARKER).touch()
    return target
