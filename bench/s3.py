"""S3 throughput and small-object ops/s: sagelocal vs. a plain file copy vs. moto in server mode.

One run, one disk (every file, home and spool lives under one temporary folder):

- large object: PUT and GET of one `--size-mib` object (default 1 GiB) through boto3, two ways:
  `upload_file` / `download_file` (s3transfer defaults: multipart above 8 MB with 8 MiB parts,
  10 threads; parallel ranged GETs), and one streamed `put_object` (file body) / `get_object`
  (`iter_chunks` into a file); each downloaded file is fsync'd before the clock stops;
- the physical limit: `shutil.copyfile` of the same bytes plus an fsync of the copy;
- moto's `moto_server` on a free loopback port, from its own venv (`bench/.venv-peers`, created
  from `bench/peers/requirements.txt` when missing: moto's pins would make pip backtrack in ours);
- small objects: `--small-ops` sequential `put_object` then `get_object` of 4 KiB objects from
  one client, against sagelocal and moto.

Targets (issue 3): large GET/PUT >= 60% of the file copy, and >= 3x moto for large throughput and
small-object ops/s.

    .venv/bin/python bench/s3.py [--size-mib 1024] [--small-ops 2000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from sagelocal.launcher import ServerProcess, free_port  # noqa: E402

PEERS_VENV = ROOT / "bench" / ".venv-peers"
PEERS_REQUIREMENTS = ROOT / "bench" / "peers" / "requirements.txt"
MiB = 1024 * 1024
REGION = "ap-northeast-1"


@dataclass
class Target:
    name: str
    endpoint: str
    key: str
    secret: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            config=Config(retries={"max_attempts": 1}, max_pool_connections=16),
        )


MODES = {
    "transfer": "upload_file / download_file (s3transfer: 8 MiB parts, 10 threads)",
    "single": "put_object / get_object (one request each, streamed)",
}


@dataclass
class Result:
    put_mibs: dict[str, float] = field(default_factory=dict)
    get_mibs: dict[str, float] = field(default_factory=dict)
    small_put_ops: float = 0.0
    small_get_ops: float = 0.0
    peak_rss_mib: float | None = None

    def keep_best(self, table: dict[str, float], mode: str, value: float) -> None:
        table[mode] = max(table.get(mode, 0.0), value)


# ---- peers ----------------------------------------------------------------------------------------


def ensure_peers_venv() -> Path:
    """`bench/.venv-peers/bin/moto_server`, creating the venv on first use."""
    moto_server = PEERS_VENV / "bin" / "moto_server"
    if not moto_server.exists():
        print(f"creating {PEERS_VENV} (moto, once) ...", flush=True)
        python3 = shutil.which("python3") or sys.executable
        subprocess.run([python3, "-m", "venv", str(PEERS_VENV)], check=True)
        pip = [str(PEERS_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "-r", str(PEERS_REQUIREMENTS)], check=True)
    return moto_server


@contextmanager
def moto(log_dir: Path) -> Iterator[Target]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["TMPDIR"] = str(log_dir)  # moto spools large bodies to temporary files: same disk
    with (log_dir / "moto.log").open("w") as log:
        proc = subprocess.Popen(
            [str(ensure_peers_venv()), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log, env=env
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()
                    break
                except (urllib.error.URLError, ConnectionError):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("moto_server did not start (see moto.log)") from None
                    time.sleep(0.1)
            yield Target("moto (server mode)", f"http://127.0.0.1:{port}", "testing", "testing")
        finally:
            proc.terminate()
            proc.wait(15)


@contextmanager
def sagelocal(home: Path) -> Iterator[tuple[Target, int]]:
    """A sagelocal server in `home`: its target and its process id (for the peak RSS)."""
    with (home.parent / "sagelocal.log").open("w") as log, ServerProcess(home, region=REGION, log=log) as srv:
        creds = srv.credentials()
        assert srv.proc is not None
        key, secret = creds["aws_access_key_id"], creds["aws_secret_access_key"]
        yield Target("sagelocal", srv.endpoint_url, key, secret), srv.proc.pid


# ---- measurements ---------------------------------------------------------------------------------


def write_source(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 * MiB))
            fh.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def file_copy_mibs(src: Path, work: Path, size_mib: float) -> float:
    dst = work / "copy.bin"

    def copy() -> None:
        shutil.copyfile(src, dst)
        fsync_path(dst)

    seconds = timed(copy)
    dst.unlink()
    return size_mib / seconds


def large(
    target: Target, src: Path, digest: str, work: Path, size_mib: float, mode: str, result: Result
) -> None:
    s3 = target.client()
    bucket = f"bench-large-{int(time.time() * 1000)}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    out = work / "download.bin"

    def put() -> None:
        if mode == "transfer":
            s3.upload_file(str(src), bucket, "large.bin")
        else:
            with src.open("rb") as fh:
                s3.put_object(Bucket=bucket, Key="large.bin", Body=fh)

    def get() -> None:
        if mode == "transfer":
            s3.download_file(bucket, "large.bin", str(out))
        else:
            with out.open("wb") as fh:
                for chunk in s3.get_object(Bucket=bucket, Key="large.bin")["Body"].iter_chunks(MiB):
                    fh.write(chunk)
        fsync_path(out)

    result.keep_best(result.put_mibs, mode, size_mib / timed(put))
    result.keep_best(result.get_mibs, mode, size_mib / timed(get))
    if sha256_file(out) != digest:
        raise AssertionError(f"{target.name}: downloaded bytes differ from the source")
    out.unlink()
    s3.delete_object(Bucket=bucket, Key="large.bin")
    s3.delete_bucket(Bucket=bucket)


def small(target: Target, ops: int, size: int, result: Result) -> None:
    s3 = target.client()
    bucket = f"bench-small-{int(time.time() * 1000)}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    body = os.urandom(size)
    keys = [f"small/{i:06d}" for i in range(ops)]

    def puts() -> None:
        for key in keys:
            s3.put_object(Bucket=bucket, Key=key, Body=body)

    def gets() -> None:
        for key in keys:
            if len(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) != size:
                raise AssertionError(f"{target.name}: short read of {key}")

    result.small_put_ops = max(result.small_put_ops, ops / timed(puts))
    result.small_get_ops = max(result.small_get_ops, ops / timed(gets))
    for i in range(0, ops, 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]]})
    s3.delete_bucket(Bucket=bucket)


# ---- report ---------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def report(args: argparse.Namespace, copy: float, ours: Result, peer: Result | None) -> None:
    rows = [("sagelocal", ours)] + ([("moto", peer)] if peer else [])
    print()
    print(f"Large object: {args.size_mib} MiB; each download fsync'd before the clock stops")
    print("| what | how | PUT MiB/s | GET MiB/s | PUT vs copy | GET vs copy | PUT vs moto | GET vs moto |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    print(f"| file copy | copyfile + fsync | {copy:.0f} | {copy:.0f} | 1.00 | 1.00 | — | — |")
    for mode, how in MODES.items():
        for name, r in rows:
            put, get = r.put_mibs[mode], r.get_mibs[mode]
            vs = f"{put / peer.put_mibs[mode]:.2f} | {get / peer.get_mibs[mode]:.2f}" if peer else "— | —"
            print(f"| {name} | {how} | {put:.0f} | {get:.0f} | {put / copy:.2f} | {get / copy:.2f} | {vs} |")
    print()
    print(f"Small objects: {args.small_ops} x {args.small_kib} KiB, put_object then get_object, one client")
    print("| what | PUT ops/s | GET ops/s | PUT vs moto | GET vs moto |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows:
        vs = (
            f"{r.small_put_ops / peer.small_put_ops:.2f} | {r.small_get_ops / peer.small_get_ops:.2f}"
            if peer
            else "— | —"
        )
        print(f"| {name} | {r.small_put_ops:.0f} | {r.small_get_ops:.0f} | {vs} |")
    if ours.peak_rss_mib is not None:
        print(f"\nsagelocal server peak RSS over the whole run: {ours.peak_rss_mib:.0f} MiB")
    print("\nTargets (issue 3):")
    for mode in MODES:
        for op, value in (("PUT", ours.put_mibs[mode]), ("GET", ours.get_mibs[mode])):
            ok = verdict(value >= 0.6 * copy)
            print(f"  {mode:8} large {op} >= 60% of file copy: {value / copy:.0%} -> {ok}")
    if peer:
        checks = {f"{m} large PUT": ours.put_mibs[m] / peer.put_mibs[m] for m in MODES}
        checks |= {f"{m} large GET": ours.get_mibs[m] / peer.get_mibs[m] for m in MODES}
        checks["small PUT"] = ours.small_put_ops / peer.small_put_ops
        checks["small GET"] = ours.small_get_ops / peer.small_get_ops
        for what, ratio in checks.items():
            print(f"  {what} >= 3x moto: {ratio:.2f}x -> {verdict(ratio >= 3)}")


def peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="large object size (default 1024)")
    parser.add_argument(
        "--small-ops", type=int, default=2000, help="small objects PUT then GET (default 2000)"
    )
    parser.add_argument("--small-kib", type=int, default=4, help="small object size in KiB (default 4)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat each measurement, keep the best")
    parser.add_argument("--no-moto", action="store_true", help="skip the moto peer")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sagelocal-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        src = work / "source.bin"
        size_mib = args.size_mib * MiB / MiB
        print(f"work folder {work}; writing {args.size_mib} MiB of random bytes ...", flush=True)
        digest = write_source(src, args.size_mib * MiB)
        copy = 0.0
        ours, peer = Result(), (None if args.no_moto else Result())
        for round_no in range(1, args.rounds + 1):
            print(f"round {round_no}: file copy", flush=True)
            copy = max(copy, file_copy_mibs(src, work, size_mib))
            print(f"round {round_no}: sagelocal", flush=True)
            with sagelocal(work / "home") as (target, pid):
                for mode in MODES:
                    large(target, src, digest, work, size_mib, mode, ours)
                small(target, args.small_ops, args.small_kib * 1024, ours)
                ours.peak_rss_mib = peak_rss_mib(pid)
            if peer is not None:
                print(f"round {round_no}: moto", flush=True)
                with moto(work) as target:
                    for mode in MODES:
                        large(target, src, digest, work, size_mib, mode, peer)
                    small(target, args.small_ops, args.small_kib * 1024, peer)
        report(args, copy, ours, peer)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
