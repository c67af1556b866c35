"""The patches that make the SageMaker Python SDK (v2 and v3) work against an AWS-compatible endpoint.

The SDK sends some STS calls (GetCallerIdentity for the account id, the default bucket name and
`get_execution_role` outside a notebook) to `https://sts.<region>.amazonaws.com` whatever
`AWS_ENDPOINT_URL` says, and v2 sends telemetry on every fit/deploy. `apply()` (which
`import sagelocal.compat.sagemaker_sdk` calls):

- makes those STS calls use the endpoint botocore itself would use for STS (so
  `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, profile `endpoint_url` and
  `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` are honoured; with none set, AWS's regional
  endpoint is used exactly as before);
- turns the SDK's telemetry off (no request leaves the machine);
- makes the SDK's waits poll at this platform's pace (`sdk_polls`): here an endpoint is
  InService in about a second, and the SDK's 30 s sleeps would be most of `deploy()` and `fit()`;
- where `$SAGELOCAL_NOTEBOOK_METADATA` names a file, reads the notebook-instance metadata
  (`{"ResourceName": ...}`) from it instead of `/opt/ml/metadata/resource-metadata.json`, so
  `get_execution_role()` finds the instance it runs in (a machine may host many).

Nothing else in the SDK changes. Inside notebook instances `sagelocal.compat.autopatch` applies
it to each SDK module as it is imported, without importing the SDK up front.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

import botocore.session

from sagelocal.compat import sdk_polls

# (module, attribute) pairs where the SDKs look up the STS endpoint function.
_STS_ENDPOINT_SITES = (
    ("sagemaker.utils", "sts_regional_endpoint"),
    ("sagemaker.session", "sts_regional_endpoint"),
    ("sagemaker_core.helper.session_helper", "sts_regional_endpoint"),
    ("sagemaker.core.helper.session_helper", "sts_regional_endpoint"),
)
_TELEMETRY_SITES = (
    ("sagemaker.telemetry.telemetry_logging", "_send_telemetry_request"),
    ("sagemaker.core.telemetry.telemetry_logging", "_send_telemetry_request"),
)
_METADATA_SITES = (
    ("sagemaker.session", "NOTEBOOK_METADATA_FILE"),
    ("sagemaker_core.helper.session_helper", "NOTEBOOK_METADATA_FILE"),
    ("sagemaker.core.helper.session_helper", "NOTEBOOK_METADATA_FILE"),
)
WATCHED = frozenset(m for m, _ in _STS_ENDPOINT_SITES + _TELEMETRY_SITES + _METADATA_SITES + sdk_polls.SITES)
_MARK = "__sagelocal_patched__"


@cache
def configured_sts_endpoint(region: str) -> str:
    """The STS endpoint botocore resolves for `region` from the environment and config files."""
    client = botocore.session.get_session().create_client("sts", region_name=region)
    return str(client.meta.endpoint_url)


def _no_telemetry(*_args: Any, **_kwargs: Any) -> None:
    """Telemetry is off: nothing is sent."""


def _import(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except Exception:  # not installed, or a v2/v3 module missing from the other major version
        return None


def _patch(sites: tuple[tuple[str, str], ...], replacement: Callable[..., Any]) -> list[str]:
    patched = []
    for module_name, attr in sites:
        module = _import(module_name)
        if module is None or not hasattr(module, attr):
            continue
        if not getattr(getattr(module, attr), _MARK, False):
            setattr(replacement, _MARK, True)
            setattr(module, attr, replacement)
        patched.append(f"{module_name}.{attr}")
    return patched


def _patch_metadata() -> list[str]:
    path = os.environ.get("SAGELOCAL_NOTEBOOK_METADATA")
    patched = []
    for module_name, attr in _METADATA_SITES if path else ():
        module = sys.modules.get(module_name) or _import(module_name)
        if module is not None and hasattr(module, attr):
            setattr(module, attr, path)
            patched.append(f"{module_name}.{attr}")
    return patched


def _patch_polls(sites: tuple[tuple[str, str], ...] = sdk_polls.SITES) -> list[str]:
    patched = []
    for module_name in dict.fromkeys(m for m, _ in sites):
        module = sys.modules.get(module_name) or _import(module_name)
        if module is not None:
            patched += sdk_polls.patch(module, module_name)
    return patched


def apply() -> list[str]:
    """Patch every SDK module present; returns the names patched (empty if no SDK installed)."""
    return (
        _patch(_STS_ENDPOINT_SITES, configured_sts_endpoint)
        + _patch(_TELEMETRY_SITES, _no_telemetry)
        + _patch_metadata()
        + _patch_polls()
    )


def patch_module(name: str) -> None:
    """Apply the patches that concern the just-imported module `name` (the autopatch hook)."""
    _patch(tuple(s for s in _STS_ENDPOINT_SITES if s[0] == name), configured_sts_endpoint)
    _patch(tuple(s for s in _TELEMETRY_SITES if s[0] == name), _no_telemetry)
    if any(m == name for m, _ in _METADATA_SITES):
        _patch_metadata()
    _patch_polls(tuple(s for s in sdk_polls.SITES if s[0] == name))
