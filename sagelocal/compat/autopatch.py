"""Apply the SageMaker SDK patches (`sdk_patches`) lazily, as each SDK module is imported.

Notebook instances run every Python process with a `sitecustomize` that calls `install()`: it
adds an import hook and nothing else, so a process that never imports the SDK pays nothing, and
one that does gets the SDK patched before user code sees it (`get_execution_role()`, the STS
endpoint, telemetry), with no line of sagelocal in the user's notebook.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

# Kept in step with sdk_patches' sites (checked by the tests), without importing it up front.
WATCHED = frozenset(
    {
        "sagemaker.utils",
        "sagemaker.session",
        "sagemaker_core.helper.session_helper",
        "sagemaker.core.helper.session_helper",
        "sagemaker.telemetry.telemetry_logging",
        "sagemaker.core.telemetry.telemetry_logging",
    }
)


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then patches the module it loaded."""

    def __init__(self, inner: importlib.abc.Loader, name: str) -> None:
        self.inner = inner
        self.name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        from sagelocal.compat.sdk_patches import patch_module

        patch_module(self.name)

    def __getattr__(self, attr: str) -> Any:  # get_source, is_package, ... of the real loader
        return getattr(self.inner, attr)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in WATCHED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader, fullname)  # type: ignore[arg-type]
                return spec
        return None


def install() -> None:
    """Add the hook once (first on sys.meta_path); patch SDK modules already imported."""
    if any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
    if WATCHED & sys.modules.keys():
        from sagelocal.compat.sdk_patches import patch_module

        for name in WATCHED & sys.modules.keys():
            patch_module(name)
