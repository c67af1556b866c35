"""The process an endpoint replica runs: the model server, tied to the platform's lifetime.

`python -m sagelocal.compute.replica_main <sagelocal.serving arguments>`. If the server that
started it dies, the replica ends too (a restarted server starts its replicas afresh), so no
orphaned model server keeps a port or memory.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="sagelocal-parent-watch", daemon=True).start()


def main() -> None:
    _watch_parent(os.getppid())
    sys.argv = ["sagelocal.serving", *sys.argv[1:]]
    runpy.run_module("sagelocal.serving", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
