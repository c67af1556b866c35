"""The user guide (docs/en, docs/ja) builds with `mkdocs build --strict`: no broken links or
anchors, no page left out of the nav, and every link to the other language's guide resolves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).with_name("mkdocs")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_guide_builds_strictly(lang: str, tmp_path: Path) -> None:
    if not MKDOCS.exists():
        pytest.fail(f"mkdocs is not installed beside {sys.executable}: pip install -e '.[dev]'")
    result = subprocess.run(
        [
            str(MKDOCS),
            "build",
            "--strict",
            "-f",
            str(ROOT / f"mkdocs.{lang}.yml"),
            "-d",
            str(tmp_path / lang),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / lang / "index.html").is_file()
    assert (tmp_path / lang / "reference" / "operations.html").is_file()


def test_guides_have_the_same_pages() -> None:
    pages = {
        lang: sorted(
            p.relative_to(ROOT / "docs" / lang).as_posix() for p in (ROOT / "docs" / lang).rglob("*.md")
        )
        for lang in ("en", "ja")
    }
    assert pages["en"] == pages["ja"]
