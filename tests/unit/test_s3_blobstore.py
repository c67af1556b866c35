"""The blob store: atomic adopt, ranged reads, concatenation, clones and sweeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagelocal.blobs.spool import SpooledBody
from sagelocal.blobs.store import CHUNK, BlobStore


def _blob(store: BlobStore, data: bytes) -> str:
    body = SpooledBody(store.tmp_dir)
    body.write(data)
    return store.adopt(body.finish())


def test_adopt_moves_the_spool_into_a_sharded_path(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    blob_id = _blob(store, b"abc")
    path = store.path(blob_id)
    assert path.read_bytes() == b"abc" and path.parent.parent.parent == store.root
    assert list(store.tmp_dir.iterdir()) == [] and store.size(blob_id) == 3
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


def test_read_range_chunks_and_closes(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    data = bytes(range(256)) * (CHUNK // 128 + 5)
    blob_id = _blob(store, data)
    chunks = list(store.read_range(blob_id))
    assert b"".join(chunks) == data and max(map(len, chunks)) <= CHUNK
    assert b"".join(store.read_range(blob_id, 10, 20)) == data[10:21]
    assert b"".join(store.read_range(blob_id, CHUNK - 1, CHUNK + 1)) == data[CHUNK - 1 : CHUNK + 2]
    gen = store.read_range(blob_id)
    next(gen)
    gen.close()  # closes the file


def test_concat_clone_delete_and_sweeps(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    ids = [_blob(store, b"a" * 10), _blob(store, b"b" * 3), _blob(store, b"")]
    body = store.concat(ids)
    assert body.size == 13 and body.part_sizes == [10, 3, 0]
    whole = store.adopt(body)
    assert store.open(whole).read() == b"a" * 10 + b"b" * 3
    twin = store.clone(whole)
    store.delete(whole)
    assert store.open(twin).read() == b"a" * 10 + b"b" * 3
    (store.tmp_dir / "upload-leftover").write_bytes(b"x")
    assert store.sweep_tmp() == 1
    removed = store.sweep_orphans(lambda batch: {twin} & set(batch), batch=2)
    assert removed == 3 and set(store.blob_ids()) == {twin}
