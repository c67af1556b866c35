"""A job's input channels in S3: which objects each channel names, which of them each host gets
(FullyReplicated: all; ShardedByS3Key: about 1/N of the objects), and fetching them into a
channel directory with the failure messages SageMaker gives. Standard library and boto3 only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Obj = tuple[str, str, str]  # (bucket, key, path relative to the channel directory)


class DownloadError(Exception):
    """The channel data could not be fetched: the user's mistake (ClientError)."""


def s3_client(endpoint_url: str, region: str, creds: dict[str, str]) -> Any:
    """A path-style S3 client of the platform's endpoint, with a job role's temporary credentials."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}),
    )


def split_s3_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'key/prefix') of an s3:// or https:// S3 URI."""
    rest = uri.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if uri.startswith("https://") and ".s3" in bucket:
        bucket = bucket.split(".s3", 1)[0]
    return bucket, key


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
    return keys


def channel_objects(s3: Any, source: dict[str, Any], spec: dict[str, Any]) -> list[Obj]:
    """(bucket, key, path relative to the channel dir) of every object a channel names."""
    uri = source["S3Uri"]
    bucket, prefix = split_s3_uri(uri)
    if source["S3DataType"] == "ManifestFile":
        body = s3.get_object(Bucket=bucket, Key=prefix)["Body"].read()
        entries = json.loads(body)
        base = entries[0]["prefix"]
        mbucket, mprefix = split_s3_uri(base)
        return [(mbucket, mprefix + rel, rel) for rel in entries[1:]]
    keys = _keys(s3, bucket, prefix)
    if not keys:
        raise DownloadError(
            f'No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure that '
            f"the bucket exists in the selected region ({spec['region']}), that objects exist under "
            f'that S3 prefix, and that the role "{spec["role_arn"]}" has "s3:ListBucket" permissions '
            f'on bucket "{bucket}".'
        )
    cut = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    return [(bucket, k, k[len(cut) :]) for k in keys]


def host_share(objects: list[Obj], distribution: str, host_index: int, host_count: int) -> list[Obj]:
    """The objects host `host_index` (0-based) of `host_count` receives: every one when the channel is
    FullyReplicated; with ShardedByS3Key, every `host_count`-th of them in key order, so each host
    gets about 1/N of the objects (a host may get none when there are fewer objects than hosts)."""
    if distribution != "ShardedByS3Key" or host_count <= 1:
        return list(objects)
    ordered = sorted(objects, key=lambda o: (o[0], o[1]))
    return ordered[host_index::host_count]


def fetch(s3: Any, objects: list[Obj], target: Path, uri: str) -> None:
    """Download `objects` under `target`, or raise DownloadError with SageMaker's wording."""
    from botocore.exceptions import ClientError

    target.mkdir(parents=True, exist_ok=True)
    current: str | None = None
    try:
        for bucket, key, rel in objects:
            path = target / rel
            if not path.resolve().is_relative_to(target.resolve()):
                raise DownloadError(f"Data download failed:Object key {key} escapes the channel directory")
            path.parent.mkdir(parents=True, exist_ok=True)
            current = f"s3://{bucket}/{key}"
            s3.download_file(bucket, key, str(path))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if current is not None and code in ("403", "AccessDenied", "Forbidden"):  # AWS's wording
            raise DownloadError(
                f"Data download failed:Unable to download object {current} (AccessDenied: Access Denied)"
            ) from None
        raise DownloadError(f"Data download failed:Could not download {uri}: {exc}") from None


def download(ws: Path, s3: Any, spec: dict[str, Any], host_index: int = 0, host_count: int = 1) -> None:
    """One host's share of every channel into input/data/<channel>/ (File mode; one host: all of it)."""
    from botocore.exceptions import ClientError

    for ch in spec["channels"]:
        source = ch["DataSource"]["S3DataSource"]
        try:
            objects = channel_objects(s3, source, spec)
        except ClientError as exc:
            raise DownloadError(f"Data download failed:Could not download {source['S3Uri']}: {exc}") from None
        dist = source.get("S3DataDistributionType", "FullyReplicated")
        share = host_share(objects, dist, host_index, host_count)
        fetch(s3, share, ws / "input" / "data" / ch["ChannelName"], source["S3Uri"])
