"""Lifecycle configuration content: which base64 is accepted, and the script text a notebook
instance gets back from a stored configuration."""

from __future__ import annotations

import base64

import pytest

from sagelocal.services.sagemaker.lifecycle_configs import decode_content, scripts
from sagelocal.store.models.notebooks import NotebookLifecycleConfig


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "content, expected",
    [
        (_b64(b"#!/bin/bash\necho hi\n"), b"#!/bin/bash\necho hi\n"),
        (_b64(b"x" * 100)[:76] + "\n" + _b64(b"x" * 100)[76:] + "\n", b"x" * 100),  # wrapped lines
        (" " + _b64(b"ab") + "\r\n", b"ab"),
    ],
)
def test_decode_content_accepts_base64(content: str, expected: bytes) -> None:
    assert decode_content(content) == expected


@pytest.mark.parametrize(
    "content",
    [
        "#!/bin/bash\necho hi",  # a script sent without encoding
        "abc",  # bad padding
        "YWJj$",  # a character outside the alphabet
        "YW-j",  # the URL-safe alphabet is not base64
        "   \n",  # nothing but whitespace
    ],
)
def test_decode_content_rejects_non_base64(content: str) -> None:
    assert decode_content(content) is None


def test_scripts_decode_each_hook() -> None:
    row = NotebookLifecycleConfig(
        on_create=[{"Content": _b64("echo créé\n".encode())}],
        on_start=[],
    )
    assert scripts(row) == ("echo créé\n", None)
    row = NotebookLifecycleConfig(on_create=[{}], on_start=[{"Content": _b64(b"echo start\n")}])
    assert scripts(row) == (None, "echo start\n")


def test_scripts_replace_bytes_that_are_not_utf8() -> None:
    row = NotebookLifecycleConfig(on_create=[], on_start=[{"Content": _b64(b"echo \xff\n")}])
    assert scripts(row) == (None, "echo \ufffd\n")
