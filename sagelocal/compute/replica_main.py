"""The process an endpoint replica runs: the model server, tied to the platform's lifetime.

`python -m sagelocal.compute.replica_main <sagelocal.serving arguments>`. If the server that
started it dies, the replica ends too (a restarted server starts its replicas afresh), so no
orphaned model server keeps a port or memory.
"""

from __future__ import annotations

import os
import runpy
import sys

from sagelocal.compute.tethered import watch_parent


def main() -> None:
    watch_parent(os.getppid())
    sys.argv = ["sagelocal.serving", *sys.argv[1:]]
    runpy.run_module("sagelocal.serving", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
