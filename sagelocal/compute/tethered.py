"""Run a Python module as a child that ends when the platform does.

`python -m sagelocal.compute.tethered MODULE ARGS...` runs `python -m MODULE ARGS...`, and if the
process that started it dies, kills its own process group (the module and everything it started:
a notebook server's kernels and terminals), so no orphan keeps a port, memory or a GPU.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time


def watch_parent(parent: int) -> None:
    """Kill this process group once `parent` is no longer our parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="sagelocal-parent-watch", daemon=True).start()


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python -m sagelocal.compute.tethered MODULE [ARGS...]")
    watch_parent(os.getppid())
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
