"""Where the platform lives and how it is reached: one immutable settings object."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 4570
DEFAULT_REGION = "ap-northeast-1"
# A file in the home naming its database URL, when that is not SQLite in the home.
DATABASE_URL_RECORD = "database-url"


def default_home() -> Path:
    """`$SAGELOCAL_HOME`, else `~/.sagelocal`."""
    return Path(os.environ.get("SAGELOCAL_HOME") or Path.home() / ".sagelocal").expanduser()


def enforcement_from_env() -> bool:
    """`$SAGELOCAL_IAM_ENFORCEMENT` (on/off, true/false, 1/0); on when unset."""
    return os.environ.get("SAGELOCAL_IAM_ENFORCEMENT", "on").strip().lower() not in (
        "off",
        "false",
        "0",
        "no",
    )


def seconds_from_env(name: str, default: float) -> float:
    """A positive number of seconds from `$name`, else `default`."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {raw!r}")
    return value


def budget_from_env() -> float | None:
    """`$SAGELOCAL_BUDGET_USD`: the monthly spend (USD, estimated at AWS prices) to warn past."""
    raw = os.environ.get("SAGELOCAL_BUDGET_USD", "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"SAGELOCAL_BUDGET_USD must be a number of US dollars, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"SAGELOCAL_BUDGET_USD must not be negative, not {raw!r}")
    return value


COMPUTE_BACKENDS = ("local", "dask")


@dataclass(frozen=True)
class ComputeSettings:
    """Where training jobs run: `local` (a worker pool on this machine; a multi-instance job trains on
    one node) or `dask` (each job on Dask workers named algo-1..N: a LocalCluster of InstanceCount
    workers started for the job, or N workers of the cluster at `dask_scheduler`)."""

    backend: str = field(
        default_factory=lambda: os.environ.get("SAGELOCAL_COMPUTE", "local").strip() or "local"
    )
    dask_scheduler: str | None = field(
        default_factory=lambda: os.environ.get("SAGELOCAL_DASK_SCHEDULER", "").strip() or None
    )
    # Each LocalCluster worker's memory limit ("2GiB", "1.5 GB", ...); "auto": machine memory / N.
    dask_worker_memory: str = field(
        default_factory=lambda: os.environ.get("SAGELOCAL_DASK_WORKER_MEMORY", "").strip() or "auto"
    )

    # How long a job waits for an existing cluster to have InstanceCount workers before CapacityError.
    dask_worker_wait: float = field(
        default_factory=lambda: seconds_from_env("SAGELOCAL_DASK_WORKER_WAIT", 60)
    )

    def __post_init__(self) -> None:
        if self.backend not in COMPUTE_BACKENDS:
            raise ValueError(
                f"the compute backend must be one of {', '.join(COMPUTE_BACKENDS)}, not {self.backend!r}"
            )
        if self.dask_scheduler is not None and self.backend != "dask":
            object.__setattr__(self, "backend", "dask")  # naming a scheduler means using it

    def for_job(self) -> dict[str, str] | None:
        """What a job's process needs to reach its cluster (None: the local backend)."""
        if self.backend != "dask":
            return None
        return {
            "scheduler": self.dask_scheduler or "",
            "worker_memory": self.dask_worker_memory,
            "worker_wait": str(self.dask_worker_wait),
        }


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    region: str = DEFAULT_REGION
    database_url: str | None = None
    # How far a request's clock may stray from ours before SigV4 refuses it (AWS: 15 minutes).
    max_clock_skew_seconds: int = 900
    # Authorize every request with IAM policies, as AWS does; `--iam-enforcement off` (or
    # SAGELOCAL_IAM_ENFORCEMENT=off) leaves authentication only.
    iam_enforcement: bool = field(default_factory=lambda: enforcement_from_env())
    # How long a presigned notebook URL may be opened (AWS: 5 minutes), and how long a notebook
    # instance's lifecycle script may run (AWS: 5 minutes). Tests shorten both.
    notebook_url_ttl: float = field(
        default_factory=lambda: seconds_from_env("SAGELOCAL_NOTEBOOK_URL_TTL", 300)
    )
    notebook_lifecycle_timeout: float = field(
        default_factory=lambda: seconds_from_env("SAGELOCAL_NOTEBOOK_LIFECYCLE_TIMEOUT", 300)
    )
    # Warn (server log, `sagelocal cost`, console) when this month's estimated AWS spend passes it.
    budget_usd: float | None = field(default_factory=budget_from_env)
    compute: ComputeSettings = field(default_factory=ComputeSettings)

    @property
    def endpoint_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def default_database_url(self) -> str:
        """SQLite in the home."""
        return f"sqlite:///{self.home / 'sagelocal.db'}"

    @property
    def database_url_record(self) -> Path:
        """Where the home names its database when that is not the default (see `home.initialise`)."""
        return self.home / DATABASE_URL_RECORD

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: explicit, then `$SAGELOCAL_DATABASE_URL`, then the database the home
        was last opened with (so `--home` alone finds a server's PostgreSQL), else SQLite in the home."""
        url = self.database_url or os.environ.get("SAGELOCAL_DATABASE_URL")
        if not url and self.database_url_record.is_file():
            url = self.database_url_record.read_text().strip()
        return url or self.default_database_url
