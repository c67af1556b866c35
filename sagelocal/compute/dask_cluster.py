"""The Dask cluster one multi-instance job runs on, and the watchdog that fails it when a worker dies.

Without a scheduler address the job starts a `LocalCluster` of InstanceCount worker processes (each
with its own memory limit) and closes it afterwards; with one, it takes InstanceCount workers of that
cluster. Either way the workers become hosts ``algo-1`` … ``algo-N`` in a stable order.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
CAPACITY_ERROR = (
    "CapacityError: Unable to provision requested ML compute capacity. "
    "Please retry using a different ML instance type."
)


class CapacityError(Exception):
    """The cluster does not have the workers the job asks for."""


@dataclass
class Cluster:
    client: Any
    hosts: dict[str, str]  # algo-i -> worker address
    pids: dict[str, int]
    local: Any | None = None  # the LocalCluster this job started, if it did
    memory_limits: dict[str, int] = field(default_factory=dict)

    @property
    def scheduler_address(self) -> str:
        return str(self.client.scheduler.address)

    def close(self) -> None:
        for closing in (self.client, self.local):
            if closing is not None:
                try:
                    closing.close()
                except Exception:  # the job is over either way; its process group goes next
                    log.debug("closing the job's Dask cluster", exc_info=True)


def _local_cluster(n: int, worker_memory: str) -> Any:
    import dask
    from distributed import LocalCluster

    # Our partitions must stay in memory for XGBoost: no spilling to disk, no pausing a busy worker.
    # A worker past its limit is still restarted by its nanny (the watchdog then fails the job).
    dask.config.set({
        "distributed.worker.memory.target": False, "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False, "distributed.scheduler.worker-ttl": "60s",
    })  # fmt: skip
    threads = max(1, (os.cpu_count() or 1) // n)
    return LocalCluster(
        n_workers=n, threads_per_worker=threads, processes=True, host="127.0.0.1", dashboard_address=None,
        memory_limit=worker_memory or "auto", silence_logs=logging.ERROR,
    )  # fmt: skip


def acquire(n: int, scheduler: str | None, worker_memory: str, timeout: float = 60.0) -> Cluster:
    """N workers named algo-1..N: from a new LocalCluster, or from the cluster at `scheduler`."""
    from distributed import Client

    local = None
    if scheduler:
        client = Client(scheduler, timeout=timeout)
        try:
            client.wait_for_workers(n, timeout=timeout)
        except Exception:  # TimeoutError in all supported versions of distributed
            client.close()
            raise CapacityError(CAPACITY_ERROR) from None
    else:
        local = _local_cluster(n, worker_memory)
        client = Client(local)
    workers = client.scheduler_info(n_workers=-1)["workers"]

    def order(address: str) -> tuple[int, str]:
        name = str(workers[address].get("name", ""))
        return (int(name), address) if name.isdigit() else (1 << 30, address)

    chosen = sorted(workers, key=order)[:n]
    hosts = {f"algo-{i + 1}": address for i, address in enumerate(chosen)}
    pids = client.run(os.getpid, workers=chosen)
    limits = {h: int(workers[a].get("memory_limit") or 0) for h, a in hosts.items()}
    return Cluster(client, hosts, {h: pids[a] for h, a in hosts.items()}, local, limits)


class Watchdog:
    """Polls the scheduler; calls `on_lost(host, why)` once if a job's worker (or the scheduler) goes."""

    def __init__(
        self, cluster: Cluster, on_lost: Callable[[str, str], None], every: float = 0.5, grace: float = 3.0
    ) -> None:
        self.cluster, self.on_lost, self.every, self.grace = cluster, on_lost, every, grace
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sagelocal-dask-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()

    def missing(self) -> tuple[str, str] | None:
        """(host, why) of the first of the job's workers the scheduler no longer has, else None."""
        present = set(self.cluster.client.scheduler_info(n_workers=-1)["workers"])
        for host, address in self.cluster.hosts.items():
            if address not in present:
                limit = self.cluster.memory_limits.get(host, 0)
                hint = f" or exceeded its memory limit of {limit / 2**30:.2f} GiB" if limit else ""
                return host, f"Dask worker {host} ({address}) left the cluster: it exited, was killed{hint}"
        return None

    def wait_missing(self, seconds: float) -> tuple[str, str] | None:
        """`missing()`, waiting up to `seconds` for the scheduler to notice a death (after a collective
        failed because a peer vanished, the scheduler may learn of it a moment later)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                found = self.missing()
            except Exception:
                found = None
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.2)

    def _watch(self) -> None:
        unreachable_since: float | None = None
        missing_since: dict[str, float] = {}
        while not self._done.wait(self.every):
            now = time.monotonic()
            try:
                found = self.missing()
                unreachable_since = None
            except Exception as exc:
                unreachable_since = unreachable_since or now
                if now - unreachable_since > 15:
                    self._fire("algo-1", f"the Dask scheduler stopped answering ({exc})")
                    return
                continue
            if found is None:
                missing_since.clear()
                continue
            # a worker whose connection blips re-registers at once; one that died stays gone
            first = missing_since.setdefault(found[0], now)
            if now - first >= self.grace:
                self._fire(*found)
                return

    def _fire(self, host: str, why: str) -> None:
        if not self._done.is_set():
            self._done.set()
            self.on_lost(host, why)
