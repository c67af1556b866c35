"""Live endpoints: the replicas serving each endpoint now, how a request picks one, and the
monitor that restarts a replica whose process died.

An endpoint is *live* (in `Hosting.deployments`) while it is InService or Updating; the runtime
answers "not found" for every other endpoint, as SageMaker's runtime does. Routing is weighted
round-robin across variants (smooth, so 3:1 weights give exactly 3 of every 4 requests) and
round-robin across a variant's ready replicas.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sagelocal.compute.replicas import Replica, ReplicaSpec

log = logging.getLogger(__name__)
Key = tuple[str, str, str]  # (account id, region, lower-cased endpoint name)
READY_TIMEOUT = 120.0


@dataclass
class Variant:
    """One production variant's replicas. `log_for(instance_id)` gives a replica's log sink."""

    name: str
    weight: float
    spec: ReplicaSpec
    log_for: Callable[[str], Callable[[str], None]]
    replicas: list[Replica] = field(default_factory=list)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def add_replica(self) -> Replica:
        replica = Replica(self.spec, log=lambda line: None)
        replica.log = self.log_for(replica.instance_id)
        replica.start()
        self.replicas.append(replica)
        return replica

    def pick(self) -> Replica | None:
        """The next ready replica in turn, or None while none is ready."""
        ready = [r for r in self.replicas if r.ready and not r.retiring]
        if not ready:
            return None
        return ready[next(self._turn) % len(ready)]


class Deployment:
    """The variants serving one endpoint, and the weighted choice between them."""

    def __init__(self, config_name: str, variants: list[Variant], endpoint_name: str = "") -> None:
        self.config_name = config_name
        self.endpoint_name = endpoint_name
        self.variants = {v.name: v for v in variants}
        self._lock = threading.Lock()
        self._current = {v.name: 0.0 for v in variants}

    def choose(self, target: str | None = None) -> Variant | None:
        """The variant a request goes to: `target` if given (None if no such variant), else by
        smooth weighted round-robin over the variants with a positive weight."""
        if target is not None:
            return self.variants.get(target)
        with self._lock:
            live = [v for v in self.variants.values() if v.weight > 0]
            if not live:
                return None
            total = sum(v.weight for v in live)
            for v in live:
                self._current[v.name] = self._current.get(v.name, 0.0) + v.weight
            best = max(live, key=lambda v: self._current[v.name])
            self._current[best.name] -= total
            return best

    def replicas(self) -> list[Replica]:
        return [r for v in self.variants.values() for r in v.replicas]

    def stop(self) -> None:
        for replica in self.replicas():
            replica.retiring = True
        threads = [threading.Thread(target=r.stop, daemon=True) for r in self.replicas()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


class Hosting:
    """The live deployments of this server process, and a monitor thread restarting replicas
    whose process died (a replica is replaced on a new port; the endpoint stays InService)."""

    def __init__(self, monitor_interval: float = 0.2) -> None:
        self.deployments: dict[Key, Deployment] = {}
        self._lock = threading.Lock()
        self._restarting: set[int] = set()
        self._stopped = threading.Event()
        self._interval = monitor_interval
        self._monitor = threading.Thread(target=self._watch, name="sagelocal-replica-monitor", daemon=True)
        self._monitor.start()

    def get(self, key: Key) -> Deployment | None:
        return self.deployments.get(key)

    def install(self, key: Key, deployment: Deployment) -> Deployment | None:
        """Make `deployment` serve the endpoint; returns the one it replaces (to be drained)."""
        with self._lock:
            old = self.deployments.get(key)
            self.deployments[key] = deployment
        return old

    def remove(self, key: Key) -> Deployment | None:
        with self._lock:
            return self.deployments.pop(key, None)

    def close(self) -> None:
        """Stop every replica (server shutdown)."""
        self._stopped.set()
        with self._lock:
            live = list(self.deployments.values())
            self.deployments.clear()
        for deployment in live:
            deployment.stop()

    def _watch(self) -> None:
        while not self._stopped.wait(self._interval):
            with self._lock:
                live = list(self.deployments.values())
            for deployment in live:
                for replica in deployment.replicas():
                    if replica.retiring or replica.alive() or id(replica) in self._restarting:
                        continue
                    self._restarting.add(id(replica))
                    threading.Thread(target=self._restart, args=(replica,), daemon=True).start()

    def _restart(self, replica: Replica) -> None:
        try:
            code = replica.proc.returncode if replica.proc else None
            replica.log(f"sagelocal: the model server exited with code {code}; restarting it")
            replica.restarts += 1
            replica.start()
            reason = replica.wait_ready(READY_TIMEOUT)
            if reason:
                replica.log(f"sagelocal: the restarted model server is not healthy: {reason}")
        except Exception:
            log.exception("restarting replica %s", replica.instance_id)
        finally:
            self._restarting.discard(id(replica))
