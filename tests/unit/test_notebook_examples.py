"""The example notebooks: the committed files are the generator's output, valid and without
outputs, the two languages share their code, only the marked cost cell is sagelocal's; copying
them into a volume never replaces what is there; and `notebook_exec` finds the printed AUC."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from sagelocal.demo import notebook_exec
from sagelocal.demo.notebook_exec import printed_auc
from sagelocal.examples_build import CLEAN_UP_TAG, EXAMPLES_DIR, build
from sagelocal.services.sagemaker.notebook_setup import copy_examples

EXPECTED = {
    "examples/bank-marketing-xgboost.ipynb",
    "examples/bank-marketing-xgboost.ja.ipynb",
    "examples/data/bank-additional.csv",
    "examples/data/NOTICE.md",
}


def test_committed_notebooks_are_the_generators_output() -> None:
    built = build()
    assert set(built) == {p.name for p in EXAMPLES_DIR.glob("*.ipynb")}
    for name, text in built.items():
        assert (EXAMPLES_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run .venv/bin/python -m sagelocal.examples_build"
        )


def test_notebooks_are_valid_without_outputs_and_share_their_code() -> None:
    names = ("bank-marketing-xgboost.ipynb", "bank-marketing-xgboost.ja.ipynb")
    en, ja = (nbformat.read(EXAMPLES_DIR / name, as_version=4) for name in names)
    for nb in (en, ja):
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert [(c.cell_type, c.id) for c in en.cells] == [(c.cell_type, c.id) for c in ja.cells]
    assert [c.source for c in en.cells if c.cell_type == "code"] == [
        c.source for c in ja.cells if c.cell_type == "code"
    ]
    assert any("\u3040" <= ch <= "\u30ff" for c in ja.cells if c.cell_type == "markdown" for ch in c.source)
    sagelocal_cells = [c.id for c in en.cells if c.cell_type == "code" and "sagelocal" in c.source.lower()]
    assert sagelocal_cells == ["cost"]
    assert "sagelocal only" in next(c for c in en.cells if c.id == "cost").source
    clean = next(c for c in en.cells if c.id == "clean")
    assert (
        CLEAN_UP_TAG in clean.metadata["tags"]
        and "delete_endpoint(delete_endpoint_config=True)" in clean.source
    )
    citation = next(c for c in en.cells if c.id == "data-md").source
    assert "Moro" in citation and "CC BY 4.0" in citation and "archive.ics.uci.edu" in citation


def test_copy_examples_fills_an_empty_volume(tmp_path: Path) -> None:
    assert set(copy_examples(tmp_path)) == EXPECTED
    assert {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()} == EXPECTED
    assert (tmp_path / "examples/data/bank-additional.csv").read_bytes().startswith(b'"age";"job"')
    assert copy_examples(tmp_path) == []  # a second time: nothing to do


def test_copy_examples_never_overwrites_the_users_files(tmp_path: Path) -> None:
    mine = tmp_path / "examples" / "bank-marketing-xgboost.ipynb"
    mine.parent.mkdir()
    mine.write_text("my edited copy")
    (tmp_path / "examples" / "data").mkdir()
    (tmp_path / "examples" / "data" / "NOTICE.md").symlink_to(tmp_path / "elsewhere.md")  # dangling
    copied = copy_examples(tmp_path)
    assert set(copied) == EXPECTED - {"examples/bank-marketing-xgboost.ipynb", "examples/data/NOTICE.md"}
    assert mine.read_text() == "my edited copy"
    assert not (tmp_path / "elsewhere.md").exists()
    mine.unlink()  # a file the user deleted comes back only when examples are copied again
    assert copy_examples(tmp_path) == ["examples/bank-marketing-xgboost.ipynb"]


def test_copy_examples_leaves_a_users_examples_file_or_repository_alone(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "examples").write_text("a file")
    assert copy_examples(tmp_path / "a") == []
    repo = tmp_path / "b" / "examples"
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    assert copy_examples(tmp_path / "b") == []
    assert sorted(p.name for p in repo.iterdir()) == [".git"]


def test_printed_auc_is_the_last_auc_line_of_the_outputs() -> None:
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("", outputs=[v4.new_output("stream", name="stdout", text="AUC: 0.5\n")]),
            v4.new_code_cell(
                "", outputs=[v4.new_output("stream", name="stdout", text="rows 3\nAUC: 0.9295\nmore\n")]
            ),
            v4.new_code_cell("", outputs=[v4.new_output("display_data", data={"text/plain": "<Figure>"})]),
        ]
    )
    assert printed_auc(nb) == 0.9295
    assert printed_auc(v4.new_notebook(cells=[v4.new_code_cell("")])) is None


def test_notebook_exec_stops_at_a_failed_cell_runs_the_clean_up_and_keeps_the_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("import os\nprint('AUC: 0.75', os.getcwd())"),
            v4.new_code_cell("raise ValueError('boom')", id="fails"),
            v4.new_code_cell("print('skipped')", id="skipped"),
            v4.new_code_cell("print('cleaned')", id="clean", metadata={"tags": [CLEAN_UP_TAG]}),
        ]
    )
    folder = tmp_path / "work"
    folder.mkdir()
    nbformat.write(nb, folder / "in.ipynb")
    out = tmp_path / "out" / "executed.ipynb"
    assert notebook_exec.main([str(folder / "in.ipynb"), str(out), "--timeout", "60"]) == 1
    line = capsys.readouterr().out.strip().splitlines()[-1]
    report = json.loads(line.removeprefix(notebook_exec.EVENT))
    assert report["cells"] == 4 and report["auc"] == 0.75
    assert report["errors"] == [{"cell": 1, "id": "fails", "ename": "ValueError", "evalue": "boom"}]
    executed = nbformat.read(out, as_version=4)
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in executed.cells]
    assert texts[0] == f"AUC: 0.75 {folder}\n"  # the kernel ran in the notebook's folder
    assert texts[2] == "" and texts[3] == "cleaned\n"
