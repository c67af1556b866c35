"""InvokeEndpoint: the request routed to a replica of the endpoint, its answer relayed as the
SageMaker runtime relays it (the model's errors become `ModelError` 424), and metrics kept.

The operation is a coroutine: the gateway awaits it on the event loop, so an invocation costs no
worker thread while the replica computes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sagelocal.compute.replicas import Replica
from sagelocal.services.base import Provider, RequestContext, ServiceError
from sagelocal.services.runtime.metrics import InvocationMetrics
from sagelocal.services.runtime.proxy import (
    ConnectionPool,
    ReplicaResponse,
    ReplicaTimeout,
    ReplicaUnavailable,
)
from sagelocal.services.sagemaker.actions import runtime_actions
from sagelocal.services.sagemaker.hosting import Hosting, Variant

MAX_PAYLOAD = 6 * 1024 * 1024  # 6 MB (the model caps requests; the response is checked here)
REPLICA_WAIT = 30.0  # how long a request waits for a replica that is (re)starting
CONSOLE_LOGS = (
    "See https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEventViewer:"
    "group=/aws/sagemaker/Endpoints/{name} in account {account} for more information."
)


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message)


def model_error(ctx: RequestContext, endpoint: str, status: int, message: str) -> ServiceError:
    kind = "client" if 400 <= status < 500 else "server"
    logs = CONSOLE_LOGS.format(region=ctx.region, name=endpoint, account=ctx.account_id)
    return ServiceError(
        "ModelError",
        f'Received {kind} error ({status}) from primary with message "{message}". {logs}',
        424,
        fields={
            "OriginalStatusCode": status,
            "OriginalMessage": message,
            "LogStreamArn": f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:/aws/sagemaker/Endpoints/{endpoint}",
        },
    )


class RuntimeProvider(Provider):
    service_name = "sagemaker-runtime"
    authz_actions = staticmethod(runtime_actions)  # type: ignore[assignment]

    def __init__(self, hosting: Hosting, metrics: InvocationMetrics | None = None) -> None:
        self.hosting = hosting
        self.metrics = metrics or InvocationMetrics()
        self.pool = ConnectionPool()

    async def _send(self, variant: Variant, body: bytes, headers: dict[str, str]) -> ReplicaResponse:
        """Post to the variant's next ready replica; a replica that turns out dead is skipped
        (the monitor restarts it) and a request waits up to REPLICA_WAIT for one to be ready."""
        deadline = time.monotonic() + REPLICA_WAIT
        while True:
            replica: Replica | None = variant.pick()
            if replica is None:
                if time.monotonic() >= deadline:
                    raise ServiceError(
                        "ServiceUnavailable",
                        "No healthy instance of the endpoint is available. Please retry.",
                        503,
                    )
                await asyncio.sleep(0.02)
                continue
            replica.enter()
            try:
                return await self.pool.post(replica.port, "/invocations", body, headers)
            except ReplicaUnavailable:
                replica.ready = False  # the monitor restarts a dead process; a live one is re-pinged below
                self.pool.forget(replica.port)
                if replica.alive():
                    asyncio.get_running_loop().run_in_executor(None, self._recheck, replica)
            finally:
                replica.leave()

    @staticmethod
    def _recheck(replica: Replica) -> None:
        replica.ready = replica.alive() and replica.ping(0.5)[0] == 200

    async def invoke_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        name: str = params["EndpointName"]
        deployment = self.hosting.get((ctx.account_id, ctx.region, name.lower()))
        if deployment is None:
            raise _validation(f"Endpoint {name} of account {ctx.account_id} not found.")
        body: bytes = params.get("Body") or b""  # the model's validation caps it at 6 MB
        target = params.get("TargetVariant")
        variant = deployment.choose(target)
        if variant is None:
            raise _validation(
                f"The variant {target} is not present in endpoint {deployment.endpoint_name or name}."
                if target
                else f"Endpoint {name} has no variant receiving traffic."
            )
        headers = {"Content-Type": params.get("ContentType") or "application/octet-stream"}
        headers["Accept"] = params.get("Accept") or "*/*"
        if "CustomAttributes" in params:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = params["CustomAttributes"]
        key = (ctx.account_id, ctx.region, deployment.endpoint_name or name, variant.name)
        model_started = time.perf_counter()
        try:
            response = await self._send(variant, body, headers)
        except ReplicaTimeout:
            self.metrics.record(key, 500, None, 0)
            raise model_error(
                ctx,
                deployment.endpoint_name or name,
                0,
                "Your invocation timed out while waiting for a response from container primary.",
            ) from None
        done = time.perf_counter()
        model_us = int((done - model_started) * 1e6)
        self.metrics.record(key, response.status, model_us, int((done - started) * 1e6) - model_us)
        if response.status >= 400:
            text = response.body.decode("utf-8", "replace")
            raise model_error(ctx, deployment.endpoint_name or name, response.status, text)
        if len(response.body) > MAX_PAYLOAD:
            raise model_error(
                ctx, deployment.endpoint_name or name, 500, "The response exceeds the 6 MB limit."
            )
        out: dict[str, Any] = {"Body": response.body, "InvokedProductionVariant": variant.name}
        if response.content_type:
            out["ContentType"] = response.content_type
        if response.custom_attributes:
            out["CustomAttributes"] = response.custom_attributes
        return out
