"""S3 listings: v1 and v2, prefixes, delimiters, pagination, encoding-type=url, byte order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from tests.unit.s3_support import S3, new_s3


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3]:
    yield from new_s3(tmp_path)


KEYS = [
    "a.txt",
    "dir/x/1",
    "dir/x/2",
    "dir/y",
    "dir/z/deep/3",
    "dir0",
    "dir~",
    "e f+g",
    "zz",
    "é",
    "日本/語",
    "\U0001f600",
]


@pytest.fixture
def filled(s3: S3) -> S3:
    s3.bucket()
    for k in KEYS:
        s3.put(k, k.encode())
    return s3


def test_byte_order(filled: S3) -> None:
    keys = [c["Key"] for c in filled("ListObjectsV2", Bucket="bkt")["Contents"]]
    assert keys == sorted(KEYS, key=lambda k: k.encode("utf-8"))


def test_prefix_and_delimiter(filled: S3) -> None:
    out = filled("ListObjectsV2", Bucket="bkt", Delimiter="/")
    assert [c["Key"] for c in out["Contents"]] == ["a.txt", "dir0", "dir~", "e f+g", "zz", "é", "\U0001f600"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["dir/", "日本/"]
    assert out["KeyCount"] == 9 and out["Delimiter"] == "/" and not out["IsTruncated"]
    out = filled("ListObjectsV2", Bucket="bkt", Prefix="dir/", Delimiter="/")
    assert [c["Key"] for c in out["Contents"]] == ["dir/y"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["dir/x/", "dir/z/"]
    assert out["Prefix"] == "dir/"
    out = filled("ListObjectsV2", Bucket="bkt", Prefix="dir")
    assert [c["Key"] for c in out["Contents"]] == [
        "dir/x/1",
        "dir/x/2",
        "dir/y",
        "dir/z/deep/3",
        "dir0",
        "dir~",
    ]
    assert "Contents" not in filled("ListObjectsV2", Bucket="bkt", Prefix="nothing")
    out = filled("ListObjects", Bucket="bkt", Prefix="dir/", Delimiter="/")
    assert [c["Key"] for c in out["Contents"]] == ["dir/y"] and out["Contents"][0]["Owner"]["ID"]


def _pages_v2(s3: S3, **params: Any) -> list[dict[str, Any]]:
    pages, token = [], None
    while True:
        extra = {"ContinuationToken": token} if token else {}
        page = s3("ListObjectsV2", Bucket="bkt", **params, **extra)
        pages.append(page)
        if not page["IsTruncated"]:
            return pages
        token = page["NextContinuationToken"]
        assert len(pages) < 100


def _pages_v1(s3: S3, **params: Any) -> list[dict[str, Any]]:
    pages, marker = [], None
    while True:
        extra = {"Marker": marker} if marker else {}
        page = s3("ListObjects", Bucket="bkt", **params, **extra)
        pages.append(page)
        if not page["IsTruncated"]:
            return pages
        # boto3's paginator: NextMarker, else the last key
        marker = page.get("NextMarker") or page["Contents"][-1]["Key"]
        assert len(pages) < 100


def _entries(pages: list[dict[str, Any]]) -> list[str]:
    return [c["Key"] for p in pages for c in p.get("Contents", [])] + [
        c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])
    ]


@pytest.mark.parametrize("page_size", [1, 2, 3, 5, 1000])
@pytest.mark.parametrize("delimiter", [None, "/"])
def test_pagination_reaches_every_entry_once(filled: S3, page_size: int, delimiter: str | None) -> None:
    extra = {"Delimiter": delimiter} if delimiter else {}
    whole = filled("ListObjectsV2", Bucket="bkt", **extra)
    expected = sorted(_entries([whole]))
    v2 = _pages_v2(filled, MaxKeys=page_size, **extra)
    assert sorted(_entries(v2)) == expected and len(_entries(v2)) == len(expected)
    assert all(p["KeyCount"] <= page_size for p in v2)
    v1 = _pages_v1(filled, MaxKeys=page_size, **extra)
    assert sorted(_entries(v1)) == expected and len(_entries(v1)) == len(expected)
    if delimiter:
        assert all("NextMarker" in p for p in v1 if p["IsTruncated"])
    else:
        assert all("NextMarker" not in p for p in v1)


def test_start_after_and_marker(filled: S3) -> None:
    out = filled("ListObjectsV2", Bucket="bkt", StartAfter="dir/y")
    assert out["Contents"][0]["Key"] == "dir/z/deep/3" and out["StartAfter"] == "dir/y"
    out = filled("ListObjectsV2", Bucket="bkt", StartAfter="dir/x/1", Delimiter="/")
    # the common prefix the start-after key lies in is not repeated
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["日本/"]
    out = filled("ListObjects", Bucket="bkt", Marker="zz")
    assert [c["Key"] for c in out["Contents"]] == ["é", "日本/語", "\U0001f600"] and out["Marker"] == "zz"


def test_max_keys(filled: S3) -> None:
    out = filled("ListObjectsV2", Bucket="bkt", MaxKeys=0)
    assert out["KeyCount"] == 0 and not out["IsTruncated"] and "Contents" not in out
    out = filled("ListObjectsV2", Bucket="bkt", MaxKeys=5000)
    assert out["MaxKeys"] == 1000 and out["KeyCount"] == len(KEYS)
    filled.error("InvalidArgument", "ListObjectsV2", Bucket="bkt", MaxKeys=-1)
    filled.error("InvalidArgument", "ListObjectsV2", Bucket="bkt", ContinuationToken="garbage!")
    filled.error("NoSuchBucket", "ListObjectsV2", Bucket="nob")


def test_encoding_type_url(filled: S3) -> None:
    out = filled(
        "ListObjectsV2", Bucket="bkt", EncodingType="url", Delimiter="/", Prefix="", StartAfter="a.txt"
    )
    assert out["EncodingType"] == "url"
    keys = [c["Key"] for c in out["Contents"]]
    assert "e+f%2Bg" in keys and "%C3%A9" in keys
    assert [unquote_plus(k) for k in keys] == ["dir0", "dir~", "e f+g", "zz", "é", "\U0001f600"]
    assert [unquote_plus(p["Prefix"]) for p in out["CommonPrefixes"]] == ["dir/", "日本/"]
    assert out["CommonPrefixes"][1]["Prefix"] == "%E6%97%A5%E6%9C%AC/"
    out = filled("ListObjects", Bucket="bkt", EncodingType="url", Prefix="e ")
    assert [c["Key"] for c in out["Contents"]] == ["e+f%2Bg"]
    filled.error("InvalidArgument", "ListObjects", Bucket="bkt", EncodingType="base64")


def test_many_common_prefixes_page_correctly(s3: S3) -> None:
    s3.bucket()
    for i in range(30):
        for j in range(3):
            s3.put(f"p{i:02d}/f{j}", b"")
    pages = _pages_v2(s3, Delimiter="/", MaxKeys=7)
    assert [p for page in pages for p in (c["Prefix"] for c in page.get("CommonPrefixes", []))] == [
        f"p{i:02d}/" for i in range(30)
    ]
