"""Where a notebook instance lives on disk and the environment its processes run with.

    <home>/notebooks/<uid>/             the instance's home directory ($HOME, like /home/ec2-user)
        SageMaker/                      its ML storage volume: JupyterLab's root, Git clones
            examples/                   the example notebooks and their data (copied on create)
        .sagelocal/                     the platform's files for it (not the user's):
            resource-metadata.json      what the SageMaker SDK reads to find the instance
            python/sitecustomize.py     applies the SDK compatibility patches in every process
            auth-secret                 signs its presigned URLs and browser sessions (0600)
            environment.json            the environment, for `sagelocal notebook run` (0600)

Kernels, terminals, lifecycle scripts and `sagelocal notebook run` all get the same variables:
the platform's endpoint, the region and, instead of keys, the container-credentials URL and
token from which boto3 fetches (and refreshes) the instance role's temporary credentials, and
the instance's process mark. Of the server's own environment only an allow-list passes (locale,
time zone, terminal, proxies, CA bundles): its keys and tokens stay out.

The processes run as the server's OS user: notebook code is not isolated from the platform's
files (its database included). The role limits what it may do through the AWS API, not on disk.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sagelocal.compute.process_marks import MARK_VAR

CREDENTIALS_PATH = "/_sagelocal/notebook-credentials"
# What a notebook inherits from the server's environment; nothing else (no keys, no tokens).
_INHERITED = {"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "USER", "LOGNAME", "SHELL"}
_INHERITED |= {"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}
_INHERITED |= {v for p in ("http", "https", "no", "all") for v in (f"{p}_proxy", f"{p.upper()}_PROXY")}
_SITECUSTOMIZE = "from sagelocal.compat import autopatch\n\nautopatch.install()\n"


@dataclass(frozen=True)
class InstanceLayout:
    """The paths of one notebook instance (see the module docstring)."""

    root: Path

    @property
    def volume(self) -> Path:
        return self.root / "SageMaker"

    @property
    def private(self) -> Path:
        return self.root / ".sagelocal"

    @property
    def metadata_file(self) -> Path:
        return self.private / "resource-metadata.json"

    @property
    def python_dir(self) -> Path:
        return self.private / "python"

    @property
    def secret_file(self) -> Path:
        return self.private / "auth-secret"

    @property
    def environment_file(self) -> Path:
        return self.private / "environment.json"

    @property
    def jupyter_dir(self) -> Path:
        return self.private / "jupyter"


def layout_for(home: Path, uid: str) -> InstanceLayout:
    return InstanceLayout(home / "notebooks" / uid)


def loopback_url(endpoint_url: str) -> str:
    """The server as its own machine reaches it: botocore fetches container credentials over
    plain http only from a loopback address, whatever host the server was named by."""
    port = endpoint_url.rsplit(":", 1)[-1].rstrip("/")
    return f"http://127.0.0.1:{port}"


def instance_environment(
    layout: InstanceLayout,
    *,
    endpoint_url: str,
    region: str,
    name: str,
    credentials_token: str,
    mark: str,
    base: dict[str, str] | None = None,
) -> dict[str, str]:
    """The variables every process of the instance runs with."""
    inherited = dict(os.environ if base is None else base)
    env = {k: v for k, v in inherited.items() if k in _INHERITED or k.startswith("LC_")}
    bin_dir = str(Path(sys.executable).parent)
    path = env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    env |= {
        "HOME": str(layout.root),
        "PATH": bin_dir + os.pathsep + path,
        "PYTHONPATH": str(layout.python_dir),
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": loopback_url(endpoint_url) + CREDENTIALS_PATH,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": credentials_token,
        # no ~/.aws of the machine's user: the instance's own (empty) config
        "AWS_CONFIG_FILE": str(layout.root / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(layout.root / ".aws" / "credentials"),
        "SAGELOCAL_NOTEBOOK_METADATA": str(layout.metadata_file),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
        "PYTHONUNBUFFERED": "1",
        MARK_VAR: mark,
    }
    return env


def prepare(layout: InstanceLayout, *, arn: str, name: str, auth_secret: str, env: dict[str, str]) -> None:
    """Create the instance's directories and write the platform's files for it."""
    layout.volume.mkdir(parents=True, exist_ok=True)
    layout.python_dir.mkdir(parents=True, exist_ok=True)
    layout.private.chmod(0o700)
    (layout.python_dir / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    layout.metadata_file.write_text(json.dumps({"ResourceArn": arn, "ResourceName": name}))
    for path, text in ((layout.secret_file, auth_secret), (layout.environment_file, json.dumps(env))):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)


def read_environment(layout: InstanceLayout) -> dict[str, str]:
    """The environment the instance was last started with (for `sagelocal notebook run`)."""
    return dict(json.loads(layout.environment_file.read_text()))


def volume_usage(layout: InstanceLayout) -> int:
    """Bytes used on the instance's volume (files' allocated sizes; symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(layout.volume):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
            except OSError:
                continue
    return total
