"""S3 through the real AWS CLI (`aws s3 ...` and `aws s3api ...`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import AWS_CLI, AwsClients
from tests.integration.s3_support import (
    MiB,
    bucket_names,
    create_bucket,
    delete_bucket,
    list_keys,
    md5_etag,
    random_bytes,
    read_body,
    s3_error,
    sha256_file,
    unique_bucket,
    write_random_file,
)

TREE = {
    "a.txt": b"alpha\n",
    "sub/b.txt": b"bravo\n" * 100,
    "sub/deep/c.csv": b"x;y\n1;2\n",
    "with space.txt": b"space\n",
    "unicodé/ü.txt": "ünïcödé\n".encode(),
}


BUCKET_PREFIX = "cli"  # the shared `bucket` fixture (tests/integration/conftest.py) names buckets with it


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_mb_cp_both_ways_with_a_50mb_file(aws: AwsClients, s3: Any, tmp_path: Path) -> None:
    name = unique_bucket("mb")
    out = aws.cli("s3", "mb", f"s3://{name}")
    assert f"make_bucket: {name}" in out.stdout
    try:
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == aws.server.region
        big = tmp_path / "big.bin"
        digest = write_random_file(big, 50 * MiB, seed=31)
        up = aws.cli("s3", "cp", str(big), f"s3://{name}/data/big.bin")
        assert f"big.bin to s3://{name}/data/big.bin" in up.stdout.splitlines()[-1]
        head = s3.head_object(Bucket=name, Key="data/big.bin")
        assert head["ContentLength"] == 50 * MiB
        assert head["ETag"].endswith('-7"')  # the CLI's 8 MiB parts: multipart

        back = tmp_path / "back.bin"
        aws.cli("s3", "cp", f"s3://{name}/data/big.bin", str(back))
        assert sha256_file(back) == digest

        small = tmp_path / "small.txt"
        small.write_bytes(b"small file\n")
        aws.cli("s3", "cp", str(small), f"s3://{name}/small.txt", "--content-type", "text/plain")
        assert read_body(s3, name, "small.txt") == b"small file\n"
        assert s3.head_object(Bucket=name, Key="small.txt")["ContentType"] == "text/plain"
        aws.cli("s3", "cp", f"s3://{name}/small.txt", f"s3://{name}/copied.txt")  # server-side copy
        assert read_body(s3, name, "copied.txt") == b"small file\n"
    finally:
        delete_bucket(s3, name)


def test_cp_streams_stdin_and_stdout(aws: AwsClients, s3: Any, bucket: str) -> None:
    """`aws s3 cp - s3://...` uploads a stream of unknown length (multipart); `cp s3://... -` streams back."""
    data = random_bytes(20 * MiB + 11, seed=32)
    up = subprocess.run(
        [AWS_CLI, "s3", "cp", "-", f"s3://{bucket}/stdin.bin"],
        input=data,
        env=aws.env,
        capture_output=True,
        timeout=120,
    )
    assert up.returncode == 0, up.stderr.decode()
    assert read_body(s3, bucket, "stdin.bin") == data
    down = subprocess.run(
        [AWS_CLI, "s3", "cp", f"s3://{bucket}/stdin.bin", "-"], env=aws.env, capture_output=True, timeout=120
    )
    assert down.returncode == 0, down.stderr.decode()
    assert down.stdout == data


def test_sync_ls_rm(aws: AwsClients, s3: Any, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    for rel, data in TREE.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)

    first = aws.cli("s3", "sync", str(src), f"s3://{bucket}/tree")
    assert first.stdout.count("upload:") == len(TREE)
    assert sorted(list_keys(s3, bucket)) == sorted(f"tree/{k}" for k in TREE)
    for rel, data in TREE.items():
        assert read_body(s3, bucket, f"tree/{rel}") == data

    second = aws.cli("s3", "sync", str(src), f"s3://{bucket}/tree")
    assert "upload:" not in second.stdout, f"a second sync copied again: {second.stdout}"

    (src / "a.txt").write_bytes(b"alpha, changed and longer\n")
    third = aws.cli("s3", "sync", str(src), f"s3://{bucket}/tree")
    assert third.stdout.count("upload:") == 1 and "a.txt" in third.stdout

    down = tmp_path / "down"
    aws.cli("s3", "sync", f"s3://{bucket}/tree", str(down))
    assert _tree(down) == _tree(src)

    listing = aws.cli("s3", "ls", "--recursive", f"s3://{bucket}/").stdout.splitlines()
    listed = {line.split(maxsplit=3)[3]: int(line.split()[2]) for line in listing if line.strip()}
    assert listed == {f"tree/{k}": len(v) for k, v in _tree(src).items()}
    top = aws.cli("s3", "ls", f"s3://{bucket}/tree/").stdout
    assert "PRE sub/" in top and "a.txt" in top

    aws.cli("s3", "rm", "--recursive", f"s3://{bucket}/tree/sub")
    assert sorted(list_keys(s3, bucket)) == sorted(f"tree/{k}" for k in TREE if not k.startswith("sub/"))
    aws.cli("s3", "rm", "--recursive", f"s3://{bucket}/")
    assert list_keys(s3, bucket) == []


def test_rb_force(aws: AwsClients, s3: Any, tmp_path: Path) -> None:
    name = create_bucket(s3, prefix="rb")
    for i in range(5):
        s3.put_object(Bucket=name, Key=f"k/{i}", Body=b"x")
    refused = aws.cli("s3", "rb", f"s3://{name}", check=False)
    assert refused.returncode != 0 and "BucketNotEmpty" in refused.stderr
    assert name in bucket_names(s3)
    out = aws.cli("s3", "rb", "--force", f"s3://{name}")
    assert f"remove_bucket: {name}" in out.stdout
    assert name not in bucket_names(s3)
    with s3_error("404", 404):
        s3.head_bucket(Bucket=name)


def test_s3api_calls(aws: AwsClients, s3: Any, bucket: str, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"hello": "s3api"}')
    put = aws.cli_json(
        "s3api",
        "put-object",
        "--bucket",
        bucket,
        "--key",
        "api/obj.json",
        "--body",
        str(body),
        "--content-type",
        "application/json",
        "--metadata",
        "origin=cli,kind=test",
        "--tagging",
        "stage=dev&owner=me",
    )
    assert put["ETag"] == md5_etag(body.read_bytes())
    head = aws.cli_json("s3api", "head-object", "--bucket", bucket, "--key", "api/obj.json")
    assert head["ContentLength"] == body.stat().st_size
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"origin": "cli", "kind": "test"}
    assert head["ETag"] == put["ETag"]

    tags = aws.cli_json("s3api", "get-object-tagging", "--bucket", bucket, "--key", "api/obj.json")
    assert {t["Key"]: t["Value"] for t in tags["TagSet"]} == {"stage": "dev", "owner": "me"}

    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"api/more/{i}", Body=b"m")
    listed = aws.cli_json("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "api/")
    assert [o["Key"] for o in listed["Contents"]] == [
        "api/more/0",
        "api/more/1",
        "api/more/2",
        "api/obj.json",
    ]
    paged = aws.cli_json(
        "s3api",
        "list-objects-v2",
        "--bucket",
        bucket,
        "--prefix",
        "api/",
        "--delimiter",
        "/",
        "--page-size",
        "1",
    )
    assert [p["Prefix"] for p in paged["CommonPrefixes"]] == ["api/more/"]
    assert [o["Key"] for o in paged["Contents"]] == ["api/obj.json"]

    out = tmp_path / "got.json"
    got = aws.cli_json("s3api", "get-object", "--bucket", bucket, "--key", "api/obj.json", str(out))
    assert out.read_bytes() == body.read_bytes() and got["ContentLength"] == body.stat().st_size

    missing = aws.cli("s3api", "head-bucket", "--bucket", unique_bucket("nope"), check=False)
    assert missing.returncode != 0 and "404" in missing.stderr
    assert json.loads(aws.cli("s3api", "list-buckets").stdout)["Buckets"]
