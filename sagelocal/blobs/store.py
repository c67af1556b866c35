"""The blob store: object and part bytes on disk, written atomically.

A blob is an immutable file named by a random id (uuid hex) under `<root>/<id[:2]>/<id[2:4]>/<id>`;
object keys never become paths, so no key (`..`, unicode, 1024 bytes) can escape the store. New
bytes arrive as a `SpooledBody` in `<root>/tmp` (already fsync'd) and are moved into place with one
rename plus an fsync of the destination directory (`adopt`). The metadata row that points to a blob
is committed only after `adopt` returns; the blob a row stops pointing to is deleted after commit.
A crash therefore leaves at most unreferenced files behind, which `sweep_tmp` and `sweep_orphans`
remove on the next start.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024


class Spooled(Protocol):
    """What `adopt` needs of an upload body: a finished, fsync'd file."""

    path: Path
    size: int


@dataclass
class ConcatBody:
    """A file assembled from other blobs (multipart completion), ready for `adopt`."""

    path: Path
    size: int = 0
    part_sizes: list[int] = field(default_factory=list)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class BlobStore:
    """Immutable blobs under `root`; temporary uploads under `root/tmp`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    # ---- paths ------------------------------------------------------------------------------

    def path(self, blob_id: str) -> Path:
        if len(blob_id) != 32 or not all(c in "0123456789abcdef" for c in blob_id):
            raise ValueError(f"not a blob id: {blob_id!r}")
        return self.root / blob_id[:2] / blob_id[2:4] / blob_id

    # ---- writing ----------------------------------------------------------------------------

    def adopt(self, spooled: Spooled) -> str:
        """Move a finished spool file into the store durably; returns the new blob id."""
        blob_id = uuid.uuid4().hex
        dest = self.path(blob_id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = Path(spooled.path)
        try:
            os.replace(src, dest)
        except OSError:  # a spool on another filesystem: copy, fsync, then drop the source
            tmp = dest.with_name(dest.name + ".part")
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout, CHUNK)
                fout.flush()
                os.fsync(fout.fileno())
            os.replace(tmp, dest)
            src.unlink(missing_ok=True)
        _fsync_dir(dest.parent)
        return blob_id

    def concat(self, blob_ids: Iterable[str], spool_dir: Path | None = None) -> ConcatBody:
        """Stream the given blobs, in order, into one new fsync'd temporary file."""
        directory = Path(spool_dir) if spool_dir is not None else self.tmp_dir
        directory.mkdir(parents=True, exist_ok=True)
        body = ConcatBody(directory / f"concat-{uuid.uuid4().hex}")
        try:
            with open(body.path, "wb", buffering=0) as out:
                for blob_id in blob_ids:
                    with open(self.path(blob_id), "rb", buffering=0) as src:
                        n = _copy(src, out)
                    body.part_sizes.append(n)
                    body.size += n
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            body.discard()
            raise
        return body

    def copy(self, blob_id: str, start: int = 0, end: int | None = None) -> ConcatBody:
        """A temporary copy of a blob's bytes [start, end] (inclusive), for CopyObject/UploadPartCopy."""
        body = ConcatBody(self.tmp_dir / f"copy-{uuid.uuid4().hex}")
        try:
            with open(body.path, "wb") as out:
                for chunk in self.read_range(blob_id, start, end):
                    out.write(chunk)
                    body.size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            body.discard()
            raise
        return body

    def clone(self, blob_id: str) -> str:
        """A new blob with the same bytes: a hard link (blobs are immutable), else a durable copy."""
        new_id = uuid.uuid4().hex
        dest = self.path(new_id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.path(blob_id), dest)
        except FileNotFoundError:
            raise
        except OSError:
            body = self.copy(blob_id)
            try:
                os.replace(body.path, dest)
            except BaseException:
                body.discard()
                raise
        _fsync_dir(dest.parent)
        return new_id

    # ---- reading ----------------------------------------------------------------------------

    def open(self, blob_id: str) -> BinaryIO:
        return open(self.path(blob_id), "rb")

    def size(self, blob_id: str) -> int:
        return self.path(blob_id).stat().st_size

    def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).is_file()

    def read_range(self, blob_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes [start, end] (inclusive; end None = to the end) in chunks of at most 1 MiB.

        The file is opened at once (so a later delete of the blob cannot break the read on POSIX)
        and closed when the generator finishes or is closed."""
        fh = self.open(blob_id)
        return _chunks(fh, start, end)

    # ---- removal and recovery ---------------------------------------------------------------

    def delete(self, blob_id: str | None) -> None:
        """Remove a blob (a missing one is fine)."""
        if blob_id:
            self.path(blob_id).unlink(missing_ok=True)

    def delete_many(self, blob_ids: Iterable[str | None]) -> None:
        for blob_id in blob_ids:
            self.delete(blob_id)

    def sweep_tmp(self) -> int:
        """Remove every temporary file (crash leftovers). Call only before serving requests."""
        removed = 0
        for entry in self.tmp_dir.iterdir():
            if entry.is_file():
                entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def blob_ids(self) -> Iterator[str]:
        """Every blob id on disk."""
        for first in self.root.iterdir():
            if len(first.name) != 2 or not first.is_dir():
                continue
            for second in first.iterdir():
                if not second.is_dir():
                    continue
                for entry in second.iterdir():
                    if len(entry.name) == 32:
                        yield entry.name
                    elif entry.name.endswith(".part"):  # an interrupted cross-device adopt
                        entry.unlink(missing_ok=True)

    def sweep_orphans(self, referenced: Callable[[list[str]], set[str]], batch: int = 500) -> int:
        """Delete blobs no metadata row references. `referenced(ids)` returns the subset in use."""
        removed = 0
        pending: list[str] = []

        def flush() -> int:
            used = referenced(pending)
            gone = [b for b in pending if b not in used]
            self.delete_many(gone)
            pending.clear()
            return len(gone)

        for blob_id in self.blob_ids():
            pending.append(blob_id)
            if len(pending) >= batch:
                removed += flush()
        if pending:
            removed += flush()
        return removed


def _copy(src: BinaryIO, out: BinaryIO) -> int:
    """Copy a whole file between unbuffered files, in-kernel where the platform allows."""
    total = 0
    copy_range = getattr(os, "copy_file_range", None)
    try:
        while copy_range is not None:
            n = copy_range(src.fileno(), out.fileno(), 1 << 30)
            if n == 0:
                return total
            total += n
    except OSError:
        if total:  # both fd offsets moved; only an up-front refusal falls back
            raise
    src.seek(total)
    while True:
        chunk = src.read(CHUNK)
        if not chunk:
            return total
        view = memoryview(chunk)
        while view:  # unbuffered writes may be short
            view = view[out.write(view) or 0 :]
        total += len(chunk)


def _chunks(fh: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    with fh:
        fh.seek(start)
        remaining = None if end is None else end - start + 1
        while remaining is None or remaining > 0:
            chunk = fh.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
