"""Execute a notebook to the end with nbclient, as JupyterLab's "Run All" would, in this process's
environment (inside a notebook instance: its role, endpoint and SDK patches), and keep the executed
copy with its outputs.

    python -m sagelocal.demo.notebook_exec IN.ipynb OUT.ipynb [--timeout S]

The kernel starts in IN's folder. OUT is written even when a cell fails; after a failure the cells
tagged `clean-up` still run, so a broken run leaves nothing billing. One stdout line reports:

    @@notebook {"cells": 25, "errors": [], "auc": 0.9295, "seconds": 14.2}

(`errors`: `{"cell", "id", "ename", "evalue"}` per failed cell; `auc`: the last `AUC: x` the
outputs printed, or null). Exit status 1 if a cell failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbclient.util import ensure_async

from sagelocal.examples_build import CLEAN_UP_TAG

EVENT = "@@notebook "
AUC_LINE = re.compile(r"\bAUC: ([0-9]*\.?[0-9]+)")


def _text(output: dict[str, Any]) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    if output.get("output_type") in ("execute_result", "display_data"):
        return str(output.get("data", {}).get("text/plain", ""))
    return ""


def printed_auc(nb: Any) -> float | None:
    """The last `AUC: <number>` the notebook's outputs show."""
    found = [m for cell in nb.cells for out in cell.get("outputs", []) for m in AUC_LINE.findall(_text(out))]
    return float(found[-1]) if found else None


def _error_of(nb: Any, index: int) -> dict[str, Any]:
    cell = nb.cells[index]
    error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), {})
    return {
        "cell": index,
        "id": cell.get("id"),
        "ename": error.get("ename", "CellExecutionError"),
        "evalue": error.get("evalue", ""),
    }


async def _run(client: NotebookClient, nb: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    async with client.async_setup_kernel():
        assert client.kc is not None
        reply = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
        if reply is not None and "language_info" in reply["content"]:
            nb.metadata["language_info"] = reply["content"]["language_info"]
        failed_at: int | None = None
        for index, cell in enumerate(nb.cells):
            after_failure = failed_at is not None
            if after_failure and CLEAN_UP_TAG not in cell.metadata.get("tags", []):
                continue
            try:
                await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            except CellExecutionError:
                errors.append(_error_of(nb, index))
                failed_at = index if failed_at is None else failed_at
        client.set_widgets_metadata()
    return errors


def execute(nb: Any, folder: Path, timeout: float) -> list[dict[str, Any]]:
    """Run `nb`'s cells in order in a kernel started in `folder`, stopping at the first failed
    cell but still running the clean-up cells after it; the failed cells."""
    client = NotebookClient(nb, timeout=int(timeout), resources={"metadata": {"path": str(folder)}})
    return asyncio.run(_run(client, nb))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagelocal.demo.notebook_exec")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per cell (default 600)")
    parser.add_argument("--copy-to", type=Path, default=None, help="also write the executed copy here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    nb = nbformat.read(args.notebook, as_version=4)
    try:
        errors = execute(nb, args.notebook.resolve().parent, args.timeout)
    except Exception as exc:  # the kernel died or would not start: report it like a cell error
        errors = [{"cell": None, "id": None, "ename": type(exc).__name__, "evalue": str(exc)}]
    finally:
        for target in (args.output, args.copy_to):
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, target)
    report = {
        "cells": len(nb.cells),
        "errors": errors,
        "auc": printed_auc(nb),
        "seconds": round(time.perf_counter() - started, 3),
    }
    print(EVENT + json.dumps(report), flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
