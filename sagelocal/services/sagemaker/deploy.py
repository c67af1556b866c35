"""Deploying endpoints: from a configuration snapshot (a *plan*) to running, healthy replicas,
and the endpoint's state persisted at each step (Creating → InService | Failed, Updating →
InService, Deleting → gone). Also what a restarted server does with the endpoints it finds.

Work runs on a thread per operation; the API calls return as soon as the new state is stored.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagelocal.billing import meter
from sagelocal.services.base import utcnow
from sagelocal.services.logs.writer import BufferedLogWriter
from sagelocal.services.sagemaker.hosting import READY_TIMEOUT, Deployment, Hosting, Key, Variant
from sagelocal.services.sagemaker.model_setup import ModelSetup, SetupError
from sagelocal.store.db import Database
from sagelocal.store.models.hosting import Endpoint

log = logging.getLogger(__name__)
LOG_GROUP = "/aws/sagemaker/Endpoints/"
RECOVERED_UPDATE = (
    "The sagelocal server stopped while this endpoint was updating; the update was rolled back."
)
PING_FAILED = (
    "The primary container for production variant {variant} did not pass the ping health check: "
    "{reason}. Please check CloudWatch logs for this endpoint."
)


class DeployError(Exception):
    """A deployment failed; the message is the endpoint's FailureReason."""


def key_of(endpoint: Endpoint) -> Key:
    return (endpoint.account_id, endpoint.region, endpoint.name_lower)


class Deployer:
    """Starts, updates and tears down endpoints' replicas and persists their states."""

    def __init__(self, db: Database, home: Path, endpoint_url: str, hosting: Hosting) -> None:
        self.db = db
        self.dir = home / "endpoints"
        self.endpoint_url = endpoint_url
        self.hosting = hosting
        self.setup = ModelSetup(db, endpoint_url)
        self._writers: dict[str, BufferedLogWriter] = {}
        self._writers_lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._flush_logs, name="sagelocal-endpoint-logs", daemon=True).start()

    # Logs.
    def _flush_logs(self) -> None:
        while not self._stopped.wait(1.0):
            with self._writers_lock:
                writers = list(self._writers.values())
            for writer in writers:
                try:
                    writer.flush()
                except Exception:
                    log.exception("flushing endpoint log")

    def _log_sink(self, endpoint: Endpoint, variant: str) -> Callable[[str], Callable[[str], None]]:
        def for_instance(instance_id: str) -> Callable[[str], None]:
            writer = BufferedLogWriter(
                self.db,
                endpoint.account_id,
                endpoint.region,
                LOG_GROUP + endpoint.name,
                f"{variant}/{instance_id}",
                max_delay=1.0,
            )
            with self._writers_lock:
                self._writers[f"{endpoint.id}/{instance_id}"] = writer
            return writer.write

        return for_instance

    # Building a deployment from a plan.
    def _variant(self, endpoint: Endpoint, plan: dict[str, Any], spec: dict[str, Any]) -> Variant:
        root = self.dir / str(endpoint.id) / f"{plan['seq']}-{spec['VariantName']}"
        try:
            replica_spec = self.setup.replica_spec(
                endpoint.account_id, endpoint.region, "endpoint-" + endpoint.name, root, spec
            )
        except SetupError as exc:
            raise DeployError(str(exc)) from None
        return Variant(
            name=spec["VariantName"],
            weight=float(spec["Weight"]),
            spec=replica_spec,
            log_for=self._log_sink(endpoint, spec["VariantName"]),
        )

    def start(self, endpoint: Endpoint, plan: dict[str, Any]) -> Deployment:
        """Fetch the plan's artifacts and start every replica (not yet healthy); raises
        DeployError (after stopping what it started)."""
        variants: list[Variant] = []
        try:
            for spec in plan["variants"]:
                variant = self._variant(endpoint, plan, spec)
                variants.append(variant)
                for _ in range(int(spec["InstanceCount"])):
                    variant.add_replica()
        except BaseException:
            Deployment(plan["config"], variants).stop()
            raise
        return Deployment(plan["config"], variants, endpoint.name)

    @staticmethod
    def wait(deployment: Deployment) -> None:
        """Wait until every replica answers /ping; raises DeployError (after stopping them)."""
        try:
            for variant in deployment.variants.values():
                for replica in variant.replicas:
                    reason = replica.wait_ready(READY_TIMEOUT)
                    if reason:
                        raise DeployError(PING_FAILED.format(variant=variant.name, reason=reason.rstrip(".")))
        except BaseException:
            deployment.stop()
            raise

    def build(self, endpoint: Endpoint, plan: dict[str, Any]) -> Deployment:
        deployment = self.start(endpoint, plan)
        self.wait(deployment)
        return deployment

    # Operations (each on its own thread).
    def spawn(self, target: Callable[..., None], *args: Any) -> None:
        threading.Thread(target=target, args=args, name=f"sagelocal-{target.__name__}", daemon=True).start()

    def _set(self, endpoint_id: int, **values: Any) -> Endpoint | None:
        with self.db.write() as session:
            endpoint = session.get(Endpoint, endpoint_id)
            if endpoint is None:
                return None
            for k, v in values.items():
                setattr(endpoint, k, v)
            endpoint.last_modified_time = utcnow()
            meter.record(session, endpoint)
            session.flush()
            session.expunge(endpoint)
            return endpoint

    def _load(self, endpoint_id: int) -> Endpoint | None:
        with self.db.read() as session:
            endpoint = session.get(Endpoint, endpoint_id)
            if endpoint is not None:
                session.expunge(endpoint)
            return endpoint

    def _build_pending(self, endpoint_id: int) -> tuple[Endpoint, dict[str, Any], Deployment | str] | None:
        """Build the endpoint's pending plan: (endpoint, plan, the healthy deployment or the
        reason it failed); None when there is nothing pending (deleted meanwhile)."""
        endpoint = self._load(endpoint_id)
        if endpoint is None or endpoint.pending is None:
            return None
        plan = endpoint.pending
        try:
            return endpoint, plan, self.build(endpoint, plan)
        except DeployError as exc:
            return endpoint, plan, str(exc)
        except Exception as exc:
            log.exception("deploying endpoint %s", endpoint.name)
            return endpoint, plan, f"InternalServerError: {exc}"

    def create(self, endpoint_id: int) -> None:
        built = self._build_pending(endpoint_id)
        if built is None:
            return
        endpoint, plan, deployment = built
        if isinstance(deployment, str):
            self._set(endpoint_id, status="Failed", failure_reason=deployment, pending=None)
        elif self._set(endpoint_id, status="InService", deployment=plan, pending=None) is None:
            deployment.stop()  # deleted meanwhile
        else:
            self.hosting.install(key_of(endpoint), deployment)

    def update(self, endpoint_id: int) -> None:
        """Deploy the pending plan beside the live one, switch traffic, then retire the old."""
        built = self._build_pending(endpoint_id)
        if built is None:
            return
        endpoint, plan, deployment = built
        if isinstance(deployment, str):  # the old deployment keeps serving
            reason = f"Failed to update endpoint: {deployment}"
            self._set(endpoint_id, status="InService", failure_reason=reason, pending=None)
            return
        old = self.hosting.install(key_of(endpoint), deployment)
        self._set(
            endpoint_id,
            status="InService",
            deployment=plan,
            config_name=plan["config"],
            pending=None,
            failure_reason=None,
        )
        if old is not None:
            self.retire(old, endpoint_id, keep_seq=plan["seq"])

    def rescale(self, endpoint_id: int) -> None:
        """UpdateEndpointWeightsAndCapacities: new weights at once, replicas added or removed."""
        endpoint = self._load(endpoint_id)
        if endpoint is None or endpoint.pending is None:
            return
        plan = endpoint.pending
        deployment = self.hosting.get(key_of(endpoint))
        reason = None
        if deployment is not None:
            added = []
            for spec in plan["variants"]:
                variant = deployment.variants[spec["VariantName"]]
                variant.weight = float(spec["Weight"])
                while len(variant.replicas) < int(spec["InstanceCount"]):
                    added.append(variant.add_replica())
                surplus = variant.replicas[int(spec["InstanceCount"]) :]
                for replica in surplus:
                    replica.retiring = True
                variant.replicas = variant.replicas[: int(spec["InstanceCount"])]
                for replica in surplus:
                    self.spawn(replica.stop)
            for replica in added:
                reason = reason or replica.wait_ready(READY_TIMEOUT)
        self._set(endpoint_id, status="InService", deployment=plan, pending=None, failure_reason=reason)

    def retire(self, old: Deployment, endpoint_id: int, keep_seq: int) -> None:
        """Stop an old deployment once its in-flight requests are answered (at most 60 s)."""
        for replica in old.replicas():
            replica.retiring = True
        deadline = time.monotonic() + 60
        while any(r.in_flight for r in old.replicas()) and time.monotonic() < deadline:
            time.sleep(0.02)
        old.stop()
        self._close_logs([f"{endpoint_id}/{r.instance_id}" for r in old.replicas()])
        root = self.dir / str(endpoint_id)
        for path in root.glob("*-*"):
            if not path.name.startswith(f"{keep_seq}-"):
                shutil.rmtree(path, ignore_errors=True)

    def delete(self, endpoint_id: int, key: Key) -> None:
        deployment = self.hosting.remove(key)
        if deployment is not None:
            deployment.stop()
        with self.db.write() as session:
            endpoint = session.get(Endpoint, endpoint_id)
            if endpoint is not None:
                meter.record(session, endpoint, gone=True)
                session.delete(endpoint)
        with self._writers_lock:
            gone = [k for k in self._writers if k.startswith(f"{endpoint_id}/")]
        self._close_logs(gone)
        shutil.rmtree(self.dir / str(endpoint_id), ignore_errors=True)

    def close(self) -> None:
        """Server shutdown: stop flushing on a timer and write what is pending."""
        self._stopped.set()
        with self._writers_lock:
            keys = list(self._writers)
        self._close_logs(keys)

    def _close_logs(self, keys: list[str]) -> None:
        """Flush and forget the log writers of replicas that are gone."""
        with self._writers_lock:
            writers = [self._writers.pop(k) for k in keys if k in self._writers]
        for writer in writers:
            writer.close()

    def restore(self, endpoint_id: int) -> None:
        """Bring an InService endpoint's replicas back after a restart (it stays InService)."""
        endpoint = self._load(endpoint_id)
        if endpoint is None or endpoint.deployment is None:
            return
        try:  # live at once: invocations wait for the first healthy replica
            deployment = self.start(endpoint, endpoint.deployment)
            self.hosting.install(key_of(endpoint), deployment)
            self.wait(deployment)
        except Exception as exc:
            log.exception("restoring endpoint %s", endpoint.name)
            self.hosting.remove(key_of(endpoint))
            self._set(endpoint_id, status="Failed", failure_reason=f"Could not restart the endpoint: {exc}")

    def recover(self) -> int:
        """At start-up: restore InService endpoints, resume creations, roll back updates,
        finish deletions. Returns how many endpoints it acted on."""
        with self.db.write() as session:
            rows = list(session.query(Endpoint).filter(Endpoint.status != "Failed"))
            work: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
            for endpoint in rows:
                if endpoint.status == "Updating":
                    endpoint.status, endpoint.pending = "InService", None
                    endpoint.failure_reason = RECOVERED_UPDATE
                if endpoint.status == "InService":
                    work.append((self.restore, (endpoint.id,)))
                elif endpoint.status == "Creating":
                    work.append((self.create, (endpoint.id,)))
                elif endpoint.status == "Deleting":
                    work.append((self.delete, (endpoint.id, key_of(endpoint))))
        for target, args in work:
            self.spawn(target, *args)
        return len(work)
