"""Running notebook instances: what Start, Stop, Update and Delete set in motion, each on its own
thread, with the instance's state persisted at every step. Also the instance role's credentials
its kernels fetch, the monitor that restarts a JupyterLab that died, and what a restarted
server does with the instances it finds (InService ones start again, running OnStart again, as
on AWS after a reboot; nothing in a volume is lost).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sagelocal.compute.notebook_servers import NotebookServer
from sagelocal.compute.replicas import free_port
from sagelocal.notebook_server.launch import (
    jupyter_command,
    jupyter_environment,
    ready_path,
    write_default_settings,
)
from sagelocal.services.base import RequestContext, ServiceError, utcnow
from sagelocal.services.iam.identity import find_role_by_arn
from sagelocal.services.logs.writer import BufferedLogWriter
from sagelocal.services.sagemaker.code_repositories import find_code_repository
from sagelocal.services.sagemaker.lifecycle_configs import find_lifecycle_config, scripts
from sagelocal.services.sagemaker.notebook_env import (
    InstanceLayout,
    instance_environment,
    layout_for,
    prepare,
    volume_usage,
)
from sagelocal.services.sagemaker.notebook_setup import clone_repository, run_lifecycle_script
from sagelocal.services.sagemaker.roles import role_session, trusts_sagemaker
from sagelocal.services.sts.provider import StsProvider
from sagelocal.store.db import Database
from sagelocal.store.models.notebooks import NotebookInstance

log = logging.getLogger(__name__)
LOG_GROUP = "/aws/sagemaker/NotebookInstances"
READY_TIMEOUT = 120.0
# Role credentials are handed out again only while they have this long to live (boto3 refreshes
# container credentials 15 minutes before they expire).
CREDENTIALS_MIN_LIFE = timedelta(minutes=20)
VOLUME_CHECK_EVERY = 30  # seconds between checks of the volumes' used space


class Failure(Exception):
    """Starting the instance failed; the message is its FailureReason."""


class NotebookRunner:
    """Starts and stops notebook instances' JupyterLab servers and persists their states."""

    def __init__(self, db: Database, home: Path, endpoint_url: str, lifecycle_timeout: float) -> None:
        self.db = db
        self.home = home
        self.endpoint_url = endpoint_url
        self.lifecycle_timeout = lifecycle_timeout
        self.sts = StsProvider(db)
        self.servers: dict[int, NotebookServer] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        self._writers: dict[int, BufferedLogWriter] = {}
        self._credentials: dict[int, dict[str, Any]] = {}
        self._flagged: set[tuple[str, str]] = set()
        self._closed = threading.Event()
        threading.Thread(target=self._monitor, name="sagelocal-notebooks", daemon=True).start()

    # Plumbing.
    def _lock(self, instance_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(instance_id, threading.Lock())

    def _spawn(self, target: Callable[[int], None], instance_id: int) -> None:
        def run() -> None:
            try:
                with self._lock(instance_id):
                    target(instance_id)
            except Exception:
                log.exception("notebook instance %s", instance_id)

        threading.Thread(target=run, name=f"sagelocal-notebook-{instance_id}", daemon=True).start()

    def _writer(self, row: NotebookInstance, stream: str, periodic: bool = False) -> BufferedLogWriter:
        """A log sink for one of the instance's streams; `periodic` ones are flushed every second
        by the monitor (for processes whose lines may stop coming)."""
        writer = BufferedLogWriter(
            self.db, row.account_id, row.region, LOG_GROUP, f"{row.name}/{stream}", max_delay=1.0
        )
        if periodic:
            with self._guard:
                self._writers[row.id] = writer
        return writer

    def _load(self, instance_id: int) -> NotebookInstance | None:
        with self.db.read() as session:
            row = session.get(NotebookInstance, instance_id)
            if row is not None:
                session.expunge(row)
            return row

    def _set(self, instance_id: int, expect: tuple[str, ...], status: str, **fields: Any) -> bool:
        """Persist `status` (and fields) if the instance is still in one of `expect`."""
        with self.db.write() as session:
            row = session.get(NotebookInstance, instance_id)
            if row is None or row.status not in expect:
                return False
            row.status = status
            row.last_modified_time = utcnow()
            for key, value in fields.items():
                setattr(row, key, value)
            return True

    def layout(self, instance_id: int) -> InstanceLayout:
        return layout_for(self.home, instance_id)

    # Operations (called by the API after it stored the new state).
    def launch(self, instance_id: int) -> None:
        self._spawn(self._start, instance_id)

    def stop(self, instance_id: int) -> None:
        self._spawn(self._stop, instance_id)

    def delete(self, instance_id: int) -> None:
        self._spawn(self._delete, instance_id)

    def finish_update(self, instance_id: int) -> None:
        self._spawn(lambda i: self._set(i, ("Updating",), "Stopped"), instance_id)

    def _start(self, instance_id: int) -> None:
        row = self._load(instance_id)
        if row is None or row.status != "Pending":
            return
        started = time.monotonic()
        try:
            server = self._bring_up(row)
        except Failure as exc:
            self._set(instance_id, ("Pending",), "Failed", failure_reason=str(exc)[:1024])
            return
        if not self._set(instance_id, ("Pending",), "InService", port=server.port, failure_reason=None):
            server.stop()
            return
        self.servers[instance_id] = server
        log.info("notebook instance %s InService in %.2f s", row.name, time.monotonic() - started)

    def _bring_up(self, row: NotebookInstance) -> NotebookServer:
        layout = self.layout(row.id)
        env = instance_environment(
            layout,
            endpoint_url=self.endpoint_url,
            region=row.region,
            name=row.name,
            credentials_token=row.credentials_token,
        )
        prepare(layout, arn=row.arn, name=row.name, auth_secret=row.auth_secret, env=env)
        on_create, on_start, lcc_arn = self._lifecycle_scripts(row)
        if not row.created:
            for url, branch in self._repositories(row):
                with self._writer(row, "GitClone") as writer:
                    reason = clone_repository(
                        url, branch, layout.volume, env, self.lifecycle_timeout, writer.write
                    )
                if reason:
                    raise Failure(reason)
            self._run_hook(row, "OnCreate", on_create, env, layout, lcc_arn)
            self._set(row.id, ("Pending",), "Pending", created=True)
        self._run_hook(row, "OnStart", on_start, env, layout, lcc_arn)
        return self._serve(row, layout, env)

    def _run_hook(
        self,
        row: NotebookInstance,
        hook: str,
        script: str | None,
        env: dict[str, str],
        layout: InstanceLayout,
        lcc_arn: str,
    ) -> None:
        if script is None:
            return
        with self._writer(row, f"LifecycleConfig{hook}") as writer:
            reason = run_lifecycle_script(
                script, hook, env, layout.root, self.lifecycle_timeout, writer.write, lcc_arn, row.arn
            )
        if reason:
            raise Failure(reason)

    def _serve(self, row: NotebookInstance, layout: InstanceLayout, env: dict[str, str]) -> NotebookServer:
        port = row.port if row.port and _port_free(row.port) else free_port()
        argv = jupyter_command(port, layout.volume, layout.jupyter_dir)
        default_repo = self._default_directory(row, layout)
        default_path = f"/lab/tree/{default_repo}" if default_repo else "/lab"
        argv = [a for a in argv if not a.startswith("--ServerApp.default_url=")]
        argv.append(f"--ServerApp.default_url={default_path}")
        write_default_settings(layout.jupyter_dir)
        server_env = env | jupyter_environment(layout.jupyter_dir)
        server_env |= {
            "SAGELOCAL_NOTEBOOK_INSTANCE": row.name,
            "SAGELOCAL_NOTEBOOK_AUTH_SECRET_FILE": str(layout.secret_file),
        }
        writer = self._writer(row, "jupyter.log", periodic=True)
        server = NotebookServer(
            argv, server_env, layout.volume, port, ready_path(), writer.write, name=row.name
        )
        server.default_path = default_path
        server.start()
        reason = server.wait_ready(READY_TIMEOUT)
        if reason:
            server.stop()
            writer.flush()
            raise Failure(
                f"The notebook server failed to start: {reason}. See the {row.name}/jupyter.log log stream."
            )
        return server

    def _stop(self, instance_id: int) -> None:
        server = self.servers.pop(instance_id, None)
        if server is not None:
            server.stop()
        self._credentials.pop(instance_id, None)
        self._set(instance_id, ("Stopping",), "Stopped")

    def _delete(self, instance_id: int) -> None:
        server = self.servers.pop(instance_id, None)
        if server is not None:
            server.stop()
        self._credentials.pop(instance_id, None)
        shutil.rmtree(self.layout(instance_id).root, ignore_errors=True)
        with self.db.write() as session:
            row = session.get(NotebookInstance, instance_id)
            if row is not None and row.status == "Deleting":
                session.delete(row)

    # What a start needs from other resources.
    @staticmethod
    def _ctx(row: NotebookInstance) -> RequestContext:
        return RequestContext("sagemaker", "StartNotebookInstance", row.region, row.account_id, None, "")

    def _lifecycle_scripts(self, row: NotebookInstance) -> tuple[str | None, str | None, str]:
        name = row.request.get("LifecycleConfigName")
        if not name:
            return None, None, ""
        with self.db.read() as session:
            lcc = find_lifecycle_config(session, self._ctx(row), name)
            if lcc is None:
                raise Failure(f"Notebook Instance Lifecycle Config {name} does not exist.")
            on_create, on_start = scripts(lcc)
            return on_create, on_start, lcc.arn

    def _repositories(self, row: NotebookInstance) -> list[tuple[str, str | None]]:
        """(URL, branch) of the default and additional repositories, in that order."""
        names = [row.request["DefaultCodeRepository"]] if row.request.get("DefaultCodeRepository") else []
        names += row.request.get("AdditionalCodeRepositories") or []
        out: list[tuple[str, str | None]] = []
        with self.db.read() as session:
            for name in names:
                if "/" in name:
                    out.append((name, None))
                    continue
                repo = find_code_repository(session, self._ctx(row), name)
                if repo is None:
                    raise Failure(f"Code repository {name} does not exist.")
                out.append((repo.git_config["RepositoryUrl"], repo.git_config.get("Branch")))
        return out

    def _default_directory(self, row: NotebookInstance, layout: InstanceLayout) -> str | None:
        from sagelocal.services.sagemaker.notebook_setup import clone_directory

        repos = self._repositories(row) if row.request.get("DefaultCodeRepository") else []
        if not repos:
            return None
        directory = clone_directory(repos[0][0])
        return directory if (layout.volume / directory).is_dir() else None

    def browser_target(self, account_id: str, region: str, name: str) -> tuple[str, str | None]:
        """Where a browser opening the instance's Url goes: ("http://127.0.0.1:<port><path>", None),
        or ("", why not) when the instance does not exist or is not InService."""
        with self.db.read() as session:
            row = session.scalar(
                select(NotebookInstance).where(
                    NotebookInstance.account_id == account_id,
                    NotebookInstance.region == region,
                    NotebookInstance.name_lower == name.lower(),
                )
            )
            if row is None:
                return "", f"There is no notebook instance {name} in {region}."
            status, instance_id = row.status, row.id
        server = self.servers.get(instance_id)
        if status != "InService" or server is None:
            return "", f"Notebook instance {name} is {status}: start it and open it again."
        return f"http://127.0.0.1:{server.port}{server.default_path}", None

    # The instance role's credentials, for its kernels (the container-credentials protocol).
    def credentials(self, token: str) -> dict[str, str] | None:
        """Temporary credentials of the role of the running instance whose token this is."""
        with self.db.read() as session:
            row = session.scalar(select(NotebookInstance).where(NotebookInstance.credentials_token == token))
            if row is None or row.status not in ("Pending", "InService"):
                return None
            role = find_role_by_arn(session, row.request["RoleArn"])
            if role is None or not trusts_sagemaker(role):
                return None
            key, account, region, name = row.id, row.account_id, row.region, row.name
        cached = self._credentials.get(key)
        if cached is None or cached["Expiration"] - utcnow() < CREDENTIALS_MIN_LIFE:
            try:
                cached = role_session(self.sts, account, region, role, "notebook-" + name)
            except ServiceError:
                return None
            self._credentials[key] = cached
        expiration: datetime = cached["Expiration"]
        return {
            "AccessKeyId": cached["AccessKeyId"],
            "SecretAccessKey": cached["SecretAccessKey"],
            "Token": cached["SessionToken"],
            "Expiration": expiration.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    # Volumes: used space is reported and flagged, not enforced (the volume is a plain directory).
    def volumes(self) -> list[dict[str, Any]]:
        """Every instance's volume: its size, the bytes used and whether that exceeds the size."""
        with self.db.read() as session:
            rows = [
                (r.id, r.name, r.region, r.status, int(r.request.get("VolumeSizeInGB", 5)))
                for r in session.scalars(select(NotebookInstance))
            ]
        out = []
        for instance_id, name, region, status, size_gb in rows:
            layout = self.layout(instance_id)
            used = volume_usage(layout) if layout.volume.exists() else 0
            out.append(
                {
                    "NotebookInstanceName": name,
                    "Region": region,
                    "NotebookInstanceStatus": status,
                    "VolumeSizeInGB": size_gb,
                    "VolumeUsedBytes": used,
                    "OverVolumeSize": used > size_gb * 2**30,
                }
            )
        return out

    def _flag_full_volumes(self) -> None:
        for volume in self.volumes():
            key = (volume["Region"], volume["NotebookInstanceName"])
            if not volume["OverVolumeSize"]:
                self._flagged.discard(key)
                continue
            if key in self._flagged:
                continue
            self._flagged.add(key)
            instance_id = next((i for i, s in self.servers.items() if s.name == key[1]), None)
            writer = self._writers.get(instance_id) if instance_id is not None else None
            if writer is not None:
                writer.write(
                    f"sagelocal: the volume holds {volume['VolumeUsedBytes'] / 2**30:.2f} GB, more than its "
                    f"VolumeSizeInGB of {volume['VolumeSizeInGB']} GB; on AWS further writes would fail "
                    "with 'No space left on device'. Grow it with UpdateNotebookInstance."
                )

    # Supervision and recovery.
    def _monitor(self) -> None:
        ticks = 0
        while not self._closed.wait(1.0):
            ticks += 1
            if ticks % VOLUME_CHECK_EVERY == 0:
                try:
                    self._flag_full_volumes()
                except Exception:
                    log.exception("checking notebook volumes")
            with self._guard:
                writers = list(self._writers.values())
            for writer in writers:
                try:
                    writer.flush()
                except Exception:
                    log.exception("flushing notebook log")
            for instance_id, server in list(self.servers.items()):
                if self._closed.is_set() or server.alive() or self.servers.get(instance_id) is not server:
                    continue
                log.warning("notebook server of instance %s exited; restarting it", instance_id)
                server.start()

    def recover(self) -> dict[str, int]:
        """Bring instances back after a restart: InService and Pending ones start again;
        Stopping ones are Stopped, Updating ones Stopped, Deleting ones are deleted."""
        counts = {"started": 0, "stopped": 0, "deleted": 0}
        with self.db.write() as session:
            rows = list(session.scalars(select(NotebookInstance)))
            for row in rows:
                if row.status in ("InService", "Pending"):
                    row.status = "Pending"
                    counts["started"] += 1
                elif row.status in ("Stopping", "Updating"):
                    row.status = "Stopped"
                    counts["stopped"] += 1
                elif row.status == "Deleting":
                    counts["deleted"] += 1
            todo = [(r.id, r.status) for r in rows]
        for instance_id, status in todo:
            if status == "Pending":
                self.launch(instance_id)
            elif status == "Deleting":
                self.delete(instance_id)
        return counts

    def close(self) -> None:
        """Stop every notebook server (the instances stay InService and start again with the
        server)."""
        self._closed.set()
        for server in list(self.servers.values()):
            server.stop(grace=5.0)
        self.servers.clear()
        for writer in list(self._writers.values()):
            try:
                writer.flush()
            except Exception:
                log.exception("flushing notebook log")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
