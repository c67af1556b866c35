"""Running notebook instances: what Start, Stop, Update and Delete set in motion, each on its own
thread, with the instance's state persisted at every step; the monitor that restarts a JupyterLab
that died; and what a restarted server does with the instances it finds (InService ones start
again, running OnStart again, as on AWS after a reboot; nothing in a volume is lost).

Every process of an instance carries its mark (`compute.process_marks`), so stopping it ends
its kernels, terminals and lifecycle scripts' background jobs too, wherever they went.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sagelocal.billing import meter
from sagelocal.compute.notebook_servers import NotebookServer
from sagelocal.compute.process_marks import kill_marked
from sagelocal.compute.replicas import free_port, port_free
from sagelocal.notebook_server.launch import (
    jupyter_command,
    jupyter_environment,
    ready_path,
    write_default_settings,
)
from sagelocal.services.base import RequestContext, utcnow
from sagelocal.services.logs.writer import BufferedLogWriter
from sagelocal.services.sagemaker.code_repositories import find_code_repository
from sagelocal.services.sagemaker.lifecycle_configs import find_lifecycle_config, scripts
from sagelocal.services.sagemaker.notebook_access import GB, NotebookAccess
from sagelocal.services.sagemaker.notebook_env import (
    InstanceLayout,
    instance_environment,
    layout_for,
    prepare,
)
from sagelocal.services.sagemaker.notebook_setup import (
    clone_directory,
    clone_repository,
    copy_examples,
    run_lifecycle_script,
)
from sagelocal.store.db import Database
from sagelocal.store.models.notebooks import NotebookInstance

log = logging.getLogger(__name__)
LOG_GROUP = "/aws/sagemaker/NotebookInstances"
READY_TIMEOUT = 120.0
VOLUME_CHECK_EVERY = 30.0  # seconds between checks of the volumes' used space
MAX_RESTARTS = 5  # a JupyterLab that exits this many times makes its instance Failed


class Failure(Exception):
    """Starting the instance failed; the message is its FailureReason."""


class NotebookRunner:
    """Starts and stops notebook instances' JupyterLab servers and persists their states."""

    def __init__(self, db: Database, home: Path, endpoint_url: str, lifecycle_timeout: float) -> None:
        self.db = db
        self.home = home
        self.endpoint_url = endpoint_url
        self.lifecycle_timeout = lifecycle_timeout
        self.servers: dict[int, NotebookServer] = {}
        self.access = NotebookAccess(db, home, self.servers)
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        self._writers: dict[int, BufferedLogWriter] = {}
        self._threads: set[threading.Thread] = set()
        self._flagged: set[int] = set()
        self._closed = threading.Event()
        threading.Thread(target=self._monitor, name="sagelocal-notebooks", daemon=True).start()
        threading.Thread(target=self._watch_volumes, name="sagelocal-notebook-volumes", daemon=True).start()

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
            finally:
                with self._guard:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"sagelocal-notebook-{instance_id}", daemon=True)
        with self._guard:
            self._threads.add(thread)
        thread.start()

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
            meter.record(session, row)
            return True

    def layout(self, row: NotebookInstance) -> InstanceLayout:
        return layout_for(self.home, row.uid)

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
        if row is None or row.status != "Pending" or self._closed.is_set():
            return
        started = time.monotonic()
        try:
            server = self._bring_up(row)
        except Exception as exc:
            if not isinstance(exc, Failure):
                log.exception("starting notebook instance %s", row.name)
            reason = str(exc) if isinstance(exc, Failure) else f"An internal error occurred: {exc}"
            kill_marked(row.uid)  # whatever a lifecycle script left running
            self._set(instance_id, ("Pending",), "Failed", failure_reason=reason[:1024])
            return
        if self._closed.is_set() or not self._set(
            instance_id, ("Pending",), "InService", port=server.port, failure_reason=None
        ):
            server.stop()
            return
        self.servers[instance_id] = server
        log.info("notebook instance %s InService in %.2f s", row.name, time.monotonic() - started)

    def _bring_up(self, row: NotebookInstance) -> NotebookServer:
        layout = self.layout(row)
        env = instance_environment(
            layout,
            endpoint_url=self.endpoint_url,
            region=row.region,
            name=row.name,
            credentials_token=row.credentials_token,
            mark=row.uid,
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
            try:  # after the clones (a repository named "examples" wins), before OnCreate sees the volume
                copy_examples(layout.volume)
            except OSError:
                log.exception("copying the example notebooks into %s", row.name)
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
        port = row.port if row.port and port_free(row.port) else free_port()
        default_repo = self._default_directory(row, layout)
        default_path = f"/lab/tree/{default_repo}" if default_repo else "/lab"
        argv = jupyter_command(port, layout.volume, default_path)
        write_default_settings(layout.jupyter_dir)
        server_env = env | jupyter_environment(layout.jupyter_dir)
        server_env |= {
            "SAGELOCAL_NOTEBOOK_INSTANCE": row.name,
            "SAGELOCAL_NOTEBOOK_AUTH_SECRET_FILE": str(layout.secret_file),
        }
        writer = self._writer(row, "jupyter.log", periodic=True)
        server = NotebookServer(
            argv, server_env, layout.volume, port, ready_path(), writer.write, name=row.name, mark=row.uid
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

    def _halt(self, row: NotebookInstance) -> None:
        """End everything the instance runs: its JupyterLab and every process carrying its mark."""
        server = self.servers.pop(row.id, None)
        if server is not None:
            server.stop()
        kill_marked(row.uid)
        self.access.forget(row.id)
        with self._guard:
            writer = self._writers.pop(row.id, None)
            self._flagged.discard(row.id)
        if writer is not None:
            writer.close()

    def _stop(self, instance_id: int) -> None:
        row = self._load(instance_id)
        try:
            if row is not None:
                self._halt(row)
        finally:
            self._set(instance_id, ("Stopping",), "Stopped")

    def _delete(self, instance_id: int) -> None:
        row = self._load(instance_id)
        try:
            if row is not None:
                self._halt(row)
                shutil.rmtree(self.layout(row).root, ignore_errors=True)
        finally:
            with self.db.write() as session:
                current = session.get(NotebookInstance, instance_id)
                if current is not None and current.status == "Deleting":
                    meter.record(session, current, gone=True)
                    session.delete(current)
            with self._guard:
                self._locks.pop(instance_id, None)

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
        repos = self._repositories(row) if row.request.get("DefaultCodeRepository") else []
        if not repos:
            return None
        directory = clone_directory(repos[0][0])
        return directory if (layout.volume / directory).is_dir() else None

    # Supervision and recovery.
    def _monitor(self) -> None:
        while not self._closed.wait(1.0):
            with self._guard:
                writers = list(self._writers.values())
            for writer in writers:
                try:
                    writer.flush()
                except Exception:
                    log.exception("flushing notebook log")
            for instance_id, server in list(self.servers.items()):
                if not server.alive():
                    self._restart(instance_id, server)

    def _restart(self, instance_id: int, server: NotebookServer) -> None:
        """Restart a JupyterLab that exited (unless a Stop or Delete holds the instance now)."""
        lock = self._lock(instance_id)
        if not lock.acquire(blocking=False):
            return
        try:
            if self._closed.is_set() or self.servers.get(instance_id) is not server:
                return
            server.restarts += 1
            if server.restarts > MAX_RESTARTS:
                self.servers.pop(instance_id, None)
                server.stop()
                self._set(
                    instance_id,
                    ("InService",),
                    "Failed",
                    failure_reason=f"The notebook server exited {MAX_RESTARTS} times; see the jupyter.log log stream.",
                )
                return
            log.warning("notebook server of instance %s exited; restarting it", instance_id)
            server.start()
            server.wait_ready(READY_TIMEOUT)
        finally:
            lock.release()

    def _watch_volumes(self) -> None:
        """Flag volumes past their VolumeSizeInGB (once each time they cross it)."""
        while not self._closed.wait(VOLUME_CHECK_EVERY):
            try:
                for volume in self.access.volumes():
                    self._flag(volume)
            except Exception:
                log.exception("checking notebook volumes")

    def _flag(self, volume: dict[str, Any]) -> None:
        instance_id = volume["Id"]
        with self._guard:
            if not volume["OverVolumeSize"]:
                self._flagged.discard(instance_id)
                return
            if instance_id in self._flagged:
                return
            self._flagged.add(instance_id)
            writer = self._writers.get(instance_id)
        if writer is not None:
            writer.write(
                f"sagelocal: the volume holds {volume['VolumeUsedBytes'] / GB:.2f} GB, more than its "
                f"VolumeSizeInGB of {volume['VolumeSizeInGB']} GB; on AWS further writes would fail "
                "with 'No space left on device'. Grow it with UpdateNotebookInstance."
            )

    def recover(self) -> dict[str, int]:
        """Bring instances back after a restart: InService and Pending ones start again;
        Stopping ones are Stopped, Updating ones Stopped, Deleting ones are deleted. Processes a
        crashed server left behind are ended first."""
        counts = {"started": 0, "stopped": 0, "deleted": 0}
        with self.db.write() as session:
            rows = list(session.scalars(select(NotebookInstance)))
            for row in rows:
                kill_marked(row.uid)
                if row.status in ("InService", "Pending"):
                    row.status = "Pending"
                    counts["started"] += 1
                elif row.status in ("Stopping", "Updating"):
                    row.status = "Stopped"
                    counts["stopped"] += 1
                elif row.status == "Deleting":
                    counts["deleted"] += 1
                meter.record(session, row)
            todo = [(r.id, r.status) for r in rows]
        for instance_id, status in todo:
            if status == "Pending":
                self.launch(instance_id)
            elif status == "Deleting":
                self.delete(instance_id)
        return counts

    def close(self) -> None:
        """Stop every notebook server and what instances run (they stay InService and start
        again with the server)."""
        self._closed.set()
        with self._guard:
            threads = list(self._threads)
        stoppers = [threading.Thread(target=s.stop, kwargs={"grace": 5.0}) for s in self.servers.values()]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()
        self.servers.clear()
        with self.db.read() as session:
            marks = list(session.scalars(select(NotebookInstance.uid)))
        for mark in marks:  # lifecycle scripts in flight, background jobs
            kill_marked(mark)
        for t in threads:
            t.join(timeout=5.0)
        for writer in list(self._writers.values()):
            try:
                writer.flush()
            except Exception:
                log.exception("flushing notebook log")
