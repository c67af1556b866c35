"""Running training jobs: credentials for the job's role, the worker pool, and persisting what
the supervised process reports (phases, log lines, outcome). Also recovery after a crash."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sagelocal.billing import meter
from sagelocal.compute import images
from sagelocal.compute.pool import WorkerPool
from sagelocal.compute.supervisor import JobHandle, JobSpec, Outcome, run_job
from sagelocal.services.base import ServiceError, utcnow
from sagelocal.services.iam.identity import RoleRecord
from sagelocal.services.logs.writer import BufferedLogWriter
from sagelocal.services.sagemaker.roles import role_credentials
from sagelocal.services.sagemaker.training import add_transition, model_uri
from sagelocal.services.sts.provider import StsProvider
from sagelocal.store.db import Database
from sagelocal.store.models.sagemaker import TrainingJob

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
RECOVERED_REASON = (
    "InternalServerError: The sagelocal server stopped while this training job was running, "
    "so the job was terminated. Please start a new training job."
)
log = logging.getLogger(__name__)


class JobRecorder:
    """Persists one job's reports (a `JobEvents`): each phase before the process goes on."""

    def __init__(self, db: Database, job: TrainingJob) -> None:
        self.db = db
        self.job_id = job.id
        self.job = (job.account_id, job.region, job.name)
        self.epoch = int(utcnow().timestamp())
        self.writers = {"algo-1": self._writer("algo-1")}
        self.writer = self.writers["algo-1"]
        self._stop_flush = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, daemon=True)
        self._flusher.start()

    def _writer(self, host: str) -> BufferedLogWriter:
        """The log stream of one host: `<job>/algo-<i>-<epoch>`, as SageMaker names it."""
        account, region, name = self.job
        stream = f"{name}/{host}-{self.epoch}"
        return BufferedLogWriter(self.db, account, region, LOG_GROUP, stream, max_delay=0.5)

    def _flush_loop(self) -> None:
        while not self._stop_flush.wait(0.5):
            for writer in list(self.writers.values()):
                try:
                    writer.flush()
                except Exception:
                    log.exception("flushing training job log")

    def phase(self, status: str) -> None:
        with self.db.write() as session:
            job = session.get(TrainingJob, self.job_id)
            if job is None or job.status != "InProgress":
                return  # Stopping: the stop transition stays the visible one
            now = utcnow()
            if status == "Downloading" and job.training_start_time is None:
                job.training_start_time = now
            add_transition(job, status, now)
            meter.record(session, job)

    def log(self, line: str, host: str = "algo-1") -> None:
        # SageMaker's log shipper writes a tab as the syslog escape #011; the SDK's metric
        # regexes for the built-in algorithms match that text.
        writer = self.writers.get(host)
        if writer is None:
            writer = self.writers[host] = self._writer(host)
        writer.write(line.replace("\t", "#011"))

    def finished(self, outcome: Outcome) -> None:
        self._stop_flush.set()
        for writer in list(self.writers.values()):
            writer.close()
        with self.db.write() as session:
            job = session.get(TrainingJob, self.job_id)
            if job is None:
                return
            now = utcnow()
            job.status = outcome.status
            job.training_end_time = now  # Describe reports training time only when it started
            job.failure_reason = outcome.failure_reason
            if outcome.model_uri:
                job.model_artifacts = outcome.model_uri
            if outcome.metrics:
                job.final_metrics = [
                    {"MetricName": k, "Value": v, "Timestamp": now.timestamp()}
                    for k, v in outcome.metrics.items()
                ]
            add_transition(job, outcome.secondary, now)
            meter.record(session, job)


class TrainingRunner:
    """Starts created jobs on a bounded pool, each in its own supervised child process."""

    def __init__(
        self, db: Database, jobs_dir: Path, endpoint_url: str, compute: dict[str, str] | None = None
    ) -> None:
        self.db = db
        self.compute = compute  # None: the local backend; else how jobs reach their Dask cluster
        self.jobs_dir = jobs_dir
        self.endpoint_url = endpoint_url
        workers = int(os.environ.get("SAGELOCAL_MAX_CONCURRENT_JOBS", "0")) or None
        self.pool = WorkerPool(workers)
        self.stop_grace = float(os.environ.get("SAGELOCAL_STOP_GRACE_SECONDS", "120"))
        self.sts = StsProvider(db)

    def credentials(self, job: TrainingJob, role: RoleRecord) -> dict[str, str]:
        """Temporary credentials of the job's role (see `roles.role_credentials`)."""
        return role_credentials(self.sts, job.account_id, job.region, role, "sagemaker-" + job.name)

    def launch(self, job: TrainingJob, role: RoleRecord) -> None:
        self.pool.submit(job.arn, lambda handle: self._run(job, role, handle))

    def stop(self, key: str) -> bool:
        return self.pool.stop(key)

    def _run(self, job: TrainingJob, role: RoleRecord, handle: JobHandle) -> None:
        recorder = JobRecorder(self.db, job)
        try:
            self._supervise(job, role, handle, recorder)
        except Exception as exc:
            log.exception("training job %s", job.name)
            recorder.finished(Outcome("Failed", "Failed", f"InternalServerError: {exc}"))

    def _supervise(
        self, job: TrainingJob, role: RoleRecord, handle: JobHandle, recorder: JobRecorder
    ) -> None:
        request: dict[str, Any] = job.request
        algo = request["AlgorithmSpecification"]
        try:
            algorithm = images.resolve(algo["TrainingImage"], request.get("HyperParameters", {}))
        except images.UnknownImage as exc:
            recorder.finished(Outcome("Failed", "Failed", f"ClientError: {exc}"))
            return
        try:
            credentials = self.credentials(job, role)
        except ServiceError:  # the role was deleted (or changed) since CreateTrainingJob
            recorder.finished(Outcome("Failed", "Failed", f"ClientError: Could not assume role {role.arn}."))
            return
        spec = JobSpec(
            name=job.name,
            workspace=self.jobs_dir / job.name,
            algorithm_argv=algorithm.argv,
            algorithm_env=algorithm.env | request.get("Environment", {}),
            framework=algorithm.framework,
            instance_type=request["ResourceConfig"].get("InstanceType", "ml.m5.large"),
            instance_count=int(request["ResourceConfig"].get("InstanceCount", 1)),
            dask=self.compute,
            channels=request.get("InputDataConfig", []),
            input_mode=algo.get("TrainingInputMode", "File"),
            hyperparameters=request.get("HyperParameters", {}),
            model_uri=model_uri(request, job.name),
            endpoint_url=self.endpoint_url,
            region=job.region,
            role_arn=role.arn,
            credentials=credentials,
            max_runtime=float(request["StoppingCondition"].get("MaxRuntimeInSeconds", 86400)),
            stop_grace=self.stop_grace,
            refresh=lambda: self.credentials(job, role),
            refresh_every=max(60.0, role.max_session_duration / 2),
        )
        run_job(spec, recorder, handle)

    def recover(self) -> int:
        """Jobs a crash left InProgress/Stopping end Failed; returns how many."""
        with self.db.write() as session:
            stale = list(
                session.scalars(select(TrainingJob).where(TrainingJob.status.in_(("InProgress", "Stopping"))))
            )
            now = utcnow()
            for job in stale:
                job.status = "Failed"
                job.failure_reason = RECOVERED_REASON
                job.training_end_time = now if job.training_start_time else None
                add_transition(job, "Failed", now)
                meter.record(session, job)
        return len(stale)
