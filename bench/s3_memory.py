"""Flat memory for large objects: one streamed PUT and GET of a `--gib` object (default 5 GiB)
through boto3, with the server's peak resident memory (VmHWM) before and after.

    .venv/bin/python bench/s3_memory.py [--gib 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sagelocal.launcher import ServerProcess


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=int, default=5)
    args = parser.parse_args()
    size = args.gib * 1024**3
    base = Path(tempfile.mkdtemp(prefix="sagelocal-mem-", dir=Path(__file__).resolve().parent))
    try:
        src = base / "object.bin"
        with open(src, "wb") as fh:
            fh.truncate(size)  # sparse: the client reads zeros fast; the server writes real blocks
        with ServerProcess(base / "home") as server:
            assert server.proc is not None
            creds = server.credentials()
            s3 = boto3.client(
                "s3",
                endpoint_url=server.endpoint_url,
                region_name=server.region,
                aws_access_key_id=creds["aws_access_key_id"],
                aws_secret_access_key=creds["aws_secret_access_key"],
                config=Config(retries={"max_attempts": 1}, read_timeout=900),
            )
            s3.create_bucket(
                Bucket="memory-bench", CreateBucketConfiguration={"LocationConstraint": server.region}
            )
            start_rss = _peak_rss_mib(server.proc.pid)
            t0 = time.perf_counter()
            with open(src, "rb") as fh:
                s3.put_object(Bucket="memory-bench", Key="big", Body=fh)
            put_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            got = sum(
                len(c) for c in s3.get_object(Bucket="memory-bench", Key="big")["Body"].iter_chunks(1 << 20)
            )
            get_s = time.perf_counter() - t0
            assert got == size, f"read {got} of {size} bytes"
            end_rss = _peak_rss_mib(server.proc.pid)
        print(
            f"{args.gib} GiB: PUT {put_s:.1f} s, GET {get_s:.1f} s; server peak RSS {start_rss:.0f} -> {end_rss:.0f} MiB"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
