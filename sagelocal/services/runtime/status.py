"""What the server reports about its live endpoints (the `/_sagelocal/endpoints` JSON): each
variant's replicas (instance id, port, process id, health, restarts) and invocation metrics."""

from __future__ import annotations

from typing import Any

from sagelocal.services.runtime.metrics import InvocationMetrics
from sagelocal.services.sagemaker.hosting import Hosting


def live_endpoints(hosting: Hosting, metrics: InvocationMetrics) -> list[dict[str, Any]]:
    series = {
        (m["AccountId"], m["Region"], m["EndpointName"], m["VariantName"]): m for m in metrics.snapshot()
    }
    out = []
    for (account, region, _), deployment in sorted(hosting.deployments.items()):
        variants = []
        for variant in deployment.variants.values():
            replicas = [
                {
                    "InstanceId": r.instance_id,
                    "Port": r.port,
                    "Pid": r.proc.pid if r.proc else None,
                    "Healthy": r.ready and r.alive(),
                    "Restarts": r.restarts,
                }
                for r in variant.replicas
            ]
            key = (account, region, deployment.endpoint_name, variant.name)
            datapoints = series.get(key, {}).get("Datapoints", [])
            variants.append(
                {
                    "VariantName": variant.name,
                    "Weight": variant.weight,
                    "Replicas": replicas,
                    "Metrics": datapoints,
                }
            )
        out.append(
            {
                "AccountId": account,
                "Region": region,
                "EndpointName": deployment.endpoint_name,
                "EndpointConfigName": deployment.config_name,
                "Variants": variants,
            }
        )
    return out
