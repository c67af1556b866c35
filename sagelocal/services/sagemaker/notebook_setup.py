"""What happens on a notebook instance before its JupyterLab starts: Git repositories cloned into
the volume and the example notebooks copied into it (once, on create), and lifecycle scripts run
with bash (OnCreate once, OnStart on every start), each within a time limit, their output going to
a log sink line by line.

The clone and lifecycle functions return None on success or the instance's FailureReason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from sagelocal.compute.output import pump_lines

Log = Callable[[str], None]
# AWS: "The value of the $PATH environment variable that is available to both scripts is
# /sbin:bin:/usr/sbin:/usr/bin". The platform's Python environment is appended so `python`,
# `pip` and `aws` work in scripts here as the conda environments do on AWS.
LIFECYCLE_PATH = "/sbin:bin:/usr/sbin:/usr/bin"
EXAMPLES_DIR = "examples"  # in the volume
# The bank-marketing data the example notebooks read from `examples/data/`.
EXAMPLE_DATA = ("bank-additional.csv", "NOTICE.md")
LIFECYCLE_FAILED = (
    "Notebook Instance Lifecycle Config '{lcc}' for Notebook Instance '{instance}' took longer than "
    "5 minutes. Please check your CloudWatch logs for more details if your Notebook Instance has "
    "Internet access."
)


def _run(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float, log: Log, keep_background: bool = False
) -> int | None:
    """Run `argv` in its own process group, sending each output line to `log`; its exit code,
    or None if it ran past `timeout` seconds. Unless it succeeded and `keep_background` is set
    (a lifecycle script's `nohup ... &` jobs live on, to end with the instance), it and everything
    it started are killed."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    reader = pump_lines(proc, log)
    try:
        code: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None
    if code != 0 or not keep_background:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the script's leftovers (or the script itself)
    proc.wait()
    reader.join(timeout=2.0)
    return code


def run_lifecycle_script(
    script: str,
    hook: str,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    log: Log,
    lcc_arn: str,
    instance_arn: str,
) -> str | None:
    """Run one lifecycle script (`hook` is OnCreate or OnStart) with bash."""
    script_env = dict(env) | {"PATH": LIFECYCLE_PATH + os.pathsep + env["PATH"].split(os.pathsep)[0]}
    stamp = time.strftime("%Y-%m-%d-%H-%M", time.gmtime())
    with tempfile.NamedTemporaryFile("w", prefix=f"{hook}_{stamp}", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        code = _run(["/bin/bash", path], script_env, cwd, timeout, log, keep_background=True)
    finally:
        os.unlink(path)
    if code == 0:
        return None
    # AWS gives the same FailureReason whether the script failed or ran too long; the log
    # stream says which.
    log(
        f"Lifecycle script {hook} ran longer than {timeout:g} seconds and was stopped."
        if code is None
        else f"Lifecycle script {hook} exited with code {code}."
    )
    return LIFECYCLE_FAILED.format(lcc=lcc_arn, instance=instance_arn)


def clone_directory(url: str) -> str:
    """The directory a repository is cloned into: the last part of its URL, without `.git`."""
    last = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    return last if last not in ("", ".", "..") else "repository"


def clone_repository(
    url: str, branch: str | None, volume: Path, env: dict[str, str], timeout: float, log: Log
) -> str | None:
    """`git clone` the repository into the volume (skipped if its directory already exists). The
    clone lands in a hidden directory first and is renamed into place only once complete."""
    target = volume / clone_directory(url)
    if target.exists():
        log(f"{target.name} already exists in the volume; not cloning {url} again.")
        return None
    partial = volume / f".{target.name}.cloning"
    shutil.rmtree(partial, ignore_errors=True)
    argv = ["git", "clone", "--quiet"]
    if branch:
        argv += ["--branch", branch]
    argv += ["--", url, str(partial)]
    lines: list[str] = []

    def keep(line: str) -> None:
        lines.append(line)
        log(line)

    git_env = dict(env) | {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false"}
    try:
        code = _run(argv, git_env, volume, timeout, keep)
    except OSError as exc:  # no git on this machine
        code, lines = 127, [str(exc)]
    if code == 0:
        partial.rename(target)
        return None
    shutil.rmtree(partial, ignore_errors=True)
    detail = next((ln for ln in reversed(lines) if ln.strip()), "")
    detail = detail.removeprefix("fatal: ").strip() or (
        f"git clone did not finish within {timeout:g} seconds" if code is None else f"git exited with {code}"
    )
    return f"Failed to clone Git repository {url}: {detail}"[:1024]


def _example_files() -> Iterator[tuple[Traversable, str]]:
    """Each shipped example file and its path under the volume's examples folder."""
    data = resources.files("sagelocal") / "data"
    for item in sorted((data / "examples").iterdir(), key=lambda t: t.name):
        if item.is_file():
            yield item, item.name
    for name in EXAMPLE_DATA:
        yield data / "bank-marketing" / name, f"data/{name}"


def copy_examples(volume: Path) -> list[str]:
    """Copy the example notebooks and their data into `<volume>/examples/`, never replacing a
    file (or anything else) already there; the paths copied. Nothing is copied into an examples
    folder that is a Git clone (a repository of that name is the user's)."""
    target = volume / EXAMPLES_DIR
    if os.path.lexists(target) and (not target.is_dir() or target.is_symlink() or (target / ".git").exists()):
        return []
    copied: list[str] = []
    for source, rel in _example_files():
        dest = target / rel
        if os.path.lexists(dest):
            continue
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as src, dest.open("xb") as out:  # "x": never over an existing file
                shutil.copyfileobj(src, out)
        except FileExistsError:  # something of the user's is in the way
            continue
        copied.append(f"{EXAMPLES_DIR}/{rel}")
    return copied
