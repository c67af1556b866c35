"""Running batch transform jobs: replicas of the job's model in batch mode, every input object
split and batched as SageMaker does, each batch sent to a replica, and one `<name>.out` object
per input assembled in order.

- SplitType Line splits on newlines; None sends each object whole. BatchStrategy SingleRecord
  sends one record per request; MultiRecord packs records up to MaxPayloadInMB.
- AssembleWith Line joins outputs with newlines (each newline-terminated); None concatenates.
- Output: `<S3OutputPath>/<key relative to the input prefix>.out`.
"""

from __future__ import annotations

import gzip
import http.client
import itertools
import logging
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sagelocal.billing import meter
from sagelocal.compute.replicas import Replica
from sagelocal.services.base import utcnow
from sagelocal.services.logs.writer import BufferedLogWriter
from sagelocal.services.runtime.proxy import MODEL_TIMEOUT
from sagelocal.services.sagemaker.artifacts import s3_client, split_s3_uri
from sagelocal.services.sagemaker.hosting import READY_TIMEOUT
from sagelocal.services.sagemaker.model_setup import ModelSetup, SetupError
from sagelocal.store.db import Database
from sagelocal.store.models.hosting import TransformJob

LOG_GROUP = "/aws/sagemaker/TransformJobs"
RECOVERED = "InternalServerError: The sagelocal server stopped while this transform job was running."
log = logging.getLogger(__name__)


class TransformFailed(Exception):
    """The job fails; the message is its FailureReason."""


class JobStopped(Exception):
    """StopTransformJob was called."""


def batches(data: bytes, split: str, strategy: str, max_bytes: int) -> Iterator[bytes]:
    """The request bodies for one input object."""
    if split != "Line":
        yield data
        return
    records = [line for line in data.splitlines(keepends=True) if line.strip()]
    if strategy == "SingleRecord":
        yield from records
        return
    batch: list[bytes] = []
    size = 0
    for record in records:
        if len(record) > max_bytes:
            raise TransformFailed(
                f"ClientError: A record of {len(record)} bytes exceeds MaxPayloadInMB ({max_bytes // 2**20} MB)."
            )
        if batch and size + len(record) > max_bytes:
            yield b"".join(batch)
            batch, size = [], 0
        batch.append(record)
        size += len(record)
    if batch:
        yield b"".join(batch)


def output_name(prefix: str, key: str) -> str:
    """`<key relative to the S3Uri prefix>.out`; an S3Uri naming the object itself gives its
    file name (s3://b/in/test.csv → test.csv.out)."""
    relative = key[len(prefix) :].lstrip("/")
    return (relative or key.rsplit("/", 1)[-1]) + ".out"


def assemble(outputs: list[bytes], assemble_with: str) -> bytes:
    if assemble_with != "Line":
        return b"".join(outputs)
    return b"".join(o if o.endswith(b"\n") else o + b"\n" for o in outputs if o)


class TransformRunner:
    """Runs each created job on its own thread."""

    def __init__(self, db: Database, home: Path, setup: ModelSetup) -> None:
        self.db = db
        self.dir = home / "transform"
        self.setup = setup
        self._local = threading.local()
        self._stops: dict[int, threading.Event] = {}

    def launch(self, job_id: int) -> None:
        self._stops[job_id] = threading.Event()
        threading.Thread(
            target=self._run, args=(job_id,), name=f"sagelocal-transform-{job_id}", daemon=True
        ).start()

    def stop(self, job_id: int) -> bool:
        event = self._stops.get(job_id)
        if event is None:
            return False
        event.set()
        return True

    def _finish(self, job_id: int, status: str, reason: str | None = None) -> None:
        with self.db.write() as session:
            job = session.get(TransformJob, job_id)
            if job is not None:
                job.status = status
                job.failure_reason = reason[:1024] if reason else None
                job.transform_end_time = job.last_modified_time = utcnow()
                meter.record(session, job)

    def _run(self, job_id: int) -> None:
        with self.db.write() as session:
            job = session.get(TransformJob, job_id)
            if job is None:
                return
            job.transform_start_time = job.last_modified_time = utcnow()
            meter.record(session, job)
            session.flush()
            session.expunge(job)
        replicas: list[Replica] = []
        writers: list[BufferedLogWriter] = []
        try:
            self._transform(job, replicas, writers)
        except JobStopped:
            self._finish(job_id, "Stopped")
        except TransformFailed as exc:
            self._finish(job_id, "Failed", str(exc))
        except Exception as exc:
            log.exception("transform job %s", job.name)
            self._finish(job_id, "Failed", f"InternalServerError: {exc}")
        else:
            self._finish(job_id, "Completed")
        finally:
            for replica in replicas:
                replica.stop()
            for writer in writers:
                writer.close()
            self._stops.pop(job_id, None)
            shutil.rmtree(self.dir / str(job_id), ignore_errors=True)

    def _start_replicas(
        self, job: TransformJob, replicas: list[Replica], writers: list[BufferedLogWriter]
    ) -> Any:
        request = job.request
        extra = {"SAGEMAKER_BATCH": "true"}
        for member, env in (
            ("MaxPayloadInMB", "SAGEMAKER_MAX_PAYLOAD_IN_MB"),
            ("BatchStrategy", "SAGEMAKER_BATCH_STRATEGY"),
            ("MaxConcurrentTransforms", "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"),
        ):
            if member in request:
                extra[env] = (
                    str(request[member]).upper() if member == "BatchStrategy" else str(request[member])
                )
        extra |= request.get("Environment", {})
        model = request["_model"]
        try:
            spec = self.setup.replica_spec(
                job.account_id, job.region, "transform-" + job.name, self.dir / str(job.id), model, extra
            )
            creds = self.setup.credentials(
                job.account_id, job.region, model.get("RoleArn"), "transform-" + job.name
            )
        except SetupError as exc:
            raise TransformFailed(f"ClientError: {exc}") from None
        for _ in range(int(request["TransformResources"].get("InstanceCount", 1))):
            replica = Replica(spec, log=lambda line: None)
            writer = BufferedLogWriter(
                self.db,
                job.account_id,
                job.region,
                LOG_GROUP,
                f"{job.name}/{replica.instance_id}",
                max_delay=0.5,
            )
            writers.append(writer)
            replica.log = writer.write
            replica.start()
            replicas.append(replica)
        for replica in replicas:
            reason = replica.wait_ready(READY_TIMEOUT)
            if reason:
                raise TransformFailed(
                    f"ClientError: The model container did not pass the ping health check: {reason}"
                )
        return s3_client(self.setup.endpoint_url, job.region, creds)

    def _transform(
        self, job: TransformJob, replicas: list[Replica], writers: list[BufferedLogWriter]
    ) -> None:
        request = job.request
        s3 = self._start_replicas(job, replicas, writers)
        stop = self._stops[job.id]
        source = request["TransformInput"]["DataSource"]["S3DataSource"]
        bucket, prefix = (
            split_s3_uri(source["S3Uri"]) if "/" in source["S3Uri"][5:] else (source["S3Uri"][5:], "")
        )
        if source["S3DataType"] == "ManifestFile":
            raise TransformFailed(
                "ClientError: ManifestFile input is not supported by sagelocal; use S3Prefix."
            )
        keys = [
            obj["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for obj in page.get("Contents", [])
            if not obj["Key"].endswith("/")
        ]
        if not keys:
            raise TransformFailed(
                f'ClientError: No S3 objects found under S3 URL "{source["S3Uri"]}" given in input data source.'
            )
        out_bucket, out_prefix = (request["TransformOutput"]["S3OutputPath"][5:] + "/").split("/", 1)
        headers = {"Content-Type": request["TransformInput"].get("ContentType", "application/octet-stream")}
        headers["Accept"] = request["TransformOutput"].get("Accept", "*/*")
        max_bytes = int(request.get("MaxPayloadInMB", 6)) * 2**20
        workers = max(1, int(request.get("MaxConcurrentTransforms", len(replicas))))
        turn = itertools.count()

        def send(body: bytes) -> bytes:
            if stop.is_set():
                raise JobStopped()
            replica = replicas[next(turn) % len(replicas)]
            status, answer = self._post(replica.port, body, headers)
            if status != 200:
                replica.log(f"Bad HTTP status received from algorithm: {status}: {answer[:500]!r}")
                raise TransformFailed(
                    f"ClientError: See job logs for more information (the model answered {status}: "
                    f"{answer.decode('utf-8', 'replace')[:300]})"
                )
            return answer

        with ThreadPoolExecutor(max_workers=workers) as executor:
            for key in keys:
                data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                if request["TransformInput"].get("CompressionType") == "Gzip":
                    data = gzip.decompress(data)
                bodies = batches(
                    data,
                    request["TransformInput"].get("SplitType", "None"),
                    request.get("BatchStrategy", "MultiRecord"),
                    max_bytes,
                )
                outputs = list(executor.map(send, bodies))
                result = assemble(outputs, request["TransformOutput"].get("AssembleWith", "None"))
                folder = out_prefix.rstrip("/") + "/" if out_prefix.strip("/") else ""
                target = folder + output_name(prefix, key)
                s3.put_object(Bucket=out_bucket, Key=target, Body=result)
                if stop.is_set():
                    raise JobStopped()

    def _post(self, port: int, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST /invocations on this thread's keep-alive connection to the replica."""
        conns: dict[int, http.client.HTTPConnection] = self._local.__dict__.setdefault("conns", {})
        conn = conns.get(port) or http.client.HTTPConnection("127.0.0.1", port, timeout=MODEL_TIMEOUT)
        conns[port] = conn
        try:
            conn.request("POST", "/invocations", body, headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            del conns[port]
            raise TransformFailed(
                f"InternalServerError: the model server stopped answering ({exc})."
            ) from None

    def recover(self) -> int:
        """Jobs a crash left InProgress/Stopping end Failed."""
        with self.db.write() as session:
            stale = list(
                session.query(TransformJob).filter(TransformJob.status.in_(("InProgress", "Stopping")))
            )
            for job in stale:
                job.status = "Failed"
                job.failure_reason = RECOVERED
                job.transform_end_time = job.last_modified_time = utcnow()
                meter.record(session, job)
        return len(stale)
