"""How a notebook instance's JupyterLab process is started: argv, environment, readiness probe.

The caller adds `SAGELOCAL_NOTEBOOK_INSTANCE`, `SAGELOCAL_NOTEBOOK_AUTH_SECRET_FILE` and its AWS
settings to `jupyter_environment()`, and runs `jupyter_command()` with cwd=root_dir.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

IDENTITY_PROVIDER = "sagelocal.notebook_server.identity.PresignedUrlIdentityProvider"


def jupyter_command(port: int, root_dir: Path, default_url: str = "/lab") -> list[str]:
    """argv for JupyterLab on 127.0.0.1:`port` serving `root_dir`, authenticated by presigned URLs,
    opening `default_url` (its config, data and runtime directories come from the environment)."""
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={Path(root_dir).resolve()}",
        f"--ServerApp.default_url={default_url}",
        f"--ServerApp.identity_provider_class={IDENTITY_PROVIDER}",
        "--ServerApp.allow_unauthenticated_access=False",
        "--ServerApp.disable_check_xsrf=False",
        "--ServerApp.allow_remote_access=False",
        "--ServerApp.terminals_enabled=True",
        "--ServerApp.quit_button=False",
        "--ServerApp.allow_root=True",  # containers often run the platform as root
        # no outbound network: no news feed, no update check, no PyPI extension manager
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]


def jupyter_environment(runtime_dir: Path) -> dict[str, str]:
    """Jupyter's and IPython's config, data and runtime directories, all under `runtime_dir`."""
    base = Path(runtime_dir).resolve()
    return {
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        # kernels run the debugger-enabled ipykernel; silence its frozen-modules warning
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


# JupyterLab settings a new instance starts with (the user may change them): no news feed and no
# update check, so JupyterLab neither asks about them nor reaches for the internet.
_DEFAULT_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def write_default_settings(runtime_dir: Path) -> None:
    """Write the default user settings under `runtime_dir` (those already there are kept)."""
    settings_dir = Path(runtime_dir).resolve() / "config" / "lab" / "user-settings"
    for rel, values in _DEFAULT_SETTINGS.items():
        path = settings_dir / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2))


def ready_path() -> str:
    """A path that answers 200 without authentication once the server is up (its version)."""
    return "/api"
