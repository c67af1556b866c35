"""The supported-operations reference: committed pages match the code, and say what it serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagelocal.cli import main
from sagelocal.docs_reference import pages, stale_pages
from sagelocal.services.s3.provider import S3Provider
from sagelocal.services.sagemaker.provider import SageMakerProvider

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return pages()


def test_committed_pages_are_fresh(generated: dict[Path, str]) -> None:
    for path, text in generated.items():
        committed = ROOT / path
        assert committed.is_file(), f"{path} is missing: run `sagelocal docs-reference`"
        assert committed.read_text(encoding="utf-8") == text, (
            f"{path} is stale: run `sagelocal docs-reference`"
        )


def test_served_operations_listed_and_unserved_not(generated: dict[Path, str]) -> None:
    # ListDomains answers NotImplemented (tests/integration/test_request_errors.py); so does
    # CreateProcessingJob: neither has a handler on the provider.
    assert S3Provider.serves("PutObject") and SageMakerProvider.serves("CreateTrainingJob")
    assert not SageMakerProvider.serves("ListDomains")
    assert not SageMakerProvider.serves("CreateProcessingJob")
    for text in generated.values():
        rows = {line.split(" | ")[0].lstrip("| ") for line in text.splitlines() if line.startswith("| ")}
        assert {"PutObject", "CreateTrainingJob", "InvokeEndpoint", "GetCallerIdentity"} <= rows
        assert not {"ListDomains", "CreateProcessingJob"} & rows
        assert "`TrainingJobName`" in text and "`AlgorithmSpecification`" in text


def test_command_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs-reference", "--check", "--root", str(tmp_path)]) == 1
    assert "docs/en/reference/operations.md is stale" in capsys.readouterr().err
    assert main(["docs-reference", "--root", str(tmp_path)]) == 0
    assert stale_pages(tmp_path) == []
    assert main(["docs-reference", "--check", "--root", str(tmp_path)]) == 0
    page = tmp_path / "docs" / "ja" / "reference" / "operations.md"
    page.write_text(page.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    assert stale_pages(tmp_path) == [Path("docs/ja/reference/operations.md")]
