"""Make the SageMaker Python SDK (v2 and v3) work against an AWS-compatible endpoint: importing
this module applies `sagelocal.compat.sdk_patches` to every SDK module installed (see there)."""

from __future__ import annotations

from sagelocal.compat.sdk_patches import apply, configured_sts_endpoint

__all__ = ["PATCHED", "apply", "configured_sts_endpoint"]

PATCHED = apply()
