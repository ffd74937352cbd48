"""Filling a new build's two indexes with every story (``nuevonorte reindex``).

Each story's public and staff documents are written by the same process, one after the other,
so text the two share is analysed once (``schema.SharedText``). From ``PARALLEL_FROM`` stories
on, the stories are split into one contiguous shard per core; each worker process reads its
own shard from the database, builds the documents and writes one segment in each index, and
the parent adds the finished segments to both tables of contents. Nothing is pickled from
process to process but the segments' descriptions and progress counts.

Relies on whoosh-reloaded 2.7.5 internals (pinned), as its own ``MpWriter`` does: a writer
that does not take the lock (``_lk=False``) writes a segment that the lock holder commits.
Two costs of Whoosh's writer are removed for a bulk build: postings spilled to temporary
runs are written and read in batches (one ``marshal`` call per 10,000 instead of one
``pickle`` call each), and document lengths are looked up in memory while postings are
written (instead of a file read each).
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from itertools import islice
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.util.numeric import byte_to_length
from whoosh.writing import PostingPool, SegmentWriter

from nuevonorte.search.documents import PublicDocument
from nuevonorte.search.store import KINDS, PUBLIC, STAFF, RebuildFailed
from nuevonorte.search.whoosh_internals.codec import ArchiveCodec, length_bytes

#: From this many stories on, a rebuild writes in worker processes (one per core, at most
#: two). Below it, starting processes costs more than it saves.
PARALLEL_FROM = 5_000
#: Postings kept in memory per index and process before they are sorted into a run on disk.
LIMIT_MB = 256
#: A worker reports progress every this many stories.
PROGRESS_EVERY = 200

#: The documents of the stories with the given ids, as (public or None, staff or None) pairs.
Documents = Callable[[list[int]], Iterable[tuple[PublicDocument | None, dict[str, Any] | None]]]


def rebuild_procs(stories: int) -> int:
    """How many worker processes a rebuild of ``stories`` stories uses (1: none)."""
    return min(2, os.cpu_count() or 1) if stories >= PARALLEL_FROM else 1


def fill(
    build: Path,
    ids: list[int],
    documents: Documents,
    bound: int,
    progress: Callable[[int], None] | None = None,
    in_child: Callable[[], None] | None = None,
) -> tuple[int, int]:
    """Write the documents of ``ids`` into the empty indexes of ``build``, a new segment every
    ``bound`` documents; returns how many documents each index received. ``in_child`` runs
    first in every worker process (to drop database connections inherited from the parent).
    RebuildFailed if any worker fails; the build is then not to be used."""
    procs = rebuild_procs(len(ids))
    if procs == 1:
        with _writers(build, bound) as (pub, stf):
            counts = _write(pub, stf, documents(ids), progress)
            found = [w.finish() for w in (pub, stf)]
        for kind, segments in zip(KINDS, found, strict=True):
            _commit_segments(build / kind, segments)
        return counts
    return _fill_in_workers(build, ids, documents, bound, procs, progress, in_child)


def _fill_in_workers(
    build: Path,
    ids: list[int],
    documents: Documents,
    bound: int,
    procs: int,
    progress: Callable[[int], None] | None,
    in_child: Callable[[], None] | None,
) -> tuple[int, int]:
    size = -(-len(ids) // procs)
    shards = [ids[k * size : (k + 1) * size] for k in range(procs)]
    # fork: the workers inherit the app and the documents function, nothing is pickled.
    context = multiprocessing.get_context("fork")
    messages = context.Queue()
    workers = [
        context.Process(
            target=_worker, args=(k, build, shard, documents, bound, in_child, messages), daemon=True
        )
        for k, shard in enumerate(shards)
    ]
    for worker in workers:
        worker.start()
    # Each worker's segments, added to the tables of contents in shard order.
    found: dict[int, list[list[Any]]] = {}
    counts = [0, 0]
    failures: list[str] = []
    pending = set(range(len(workers)))
    try:
        while pending and not failures:  # one failure fails the build: stop the others
            try:
                kind, k, *payload = messages.get(timeout=1.0)
            except queue.Empty:
                # A worker that died without a word (killed, out of memory) fails the build.
                for k in sorted(pending):
                    if workers[k].exitcode not in (None, 0):
                        failures.append(f"worker {k} ended with exit code {workers[k].exitcode}")
                        pending.discard(k)
                continue
            if kind == "progress":
                if progress:
                    progress(payload[0])
                continue
            pending.discard(k)
            if kind == "error":
                failures.append(payload[0])
                continue
            found[k] = payload[0]
            for i, count in enumerate(payload[1]):
                counts[i] += count
    finally:
        for worker in workers:
            if failures or pending:  # failed, or interrupted: no need to finish the work
                worker.kill()
            worker.join(timeout=60)
    if failures:
        raise RebuildFailed("a rebuild worker failed:\n" + "\n".join(failures))
    for i, kind in enumerate(KINDS):
        _commit_segments(build / kind, [seg for k in sorted(found) for seg in found[k][i]])
    return counts[0], counts[1]


def _worker(
    k: int,
    build: Path,
    shard: list[int],
    documents: Documents,
    bound: int,
    in_child: Callable[[], None] | None,
    messages: Any,
) -> None:
    """One worker process: its shard's documents into new segments of each index."""
    try:
        if in_child:
            in_child()
        with _writers(build, bound) as (pub, stf):
            counts = _write(pub, stf, documents(shard), lambda n: messages.put(("progress", k, n)))
            found = [w.finish() for w in (pub, stf)]
        messages.put(("done", k, found, counts))
    except BaseException:
        messages.put(("error", k, traceback.format_exc(limit=8)))
    messages.close()
    messages.join_thread()


def _write(
    pub: Segments,
    stf: Segments,
    docs: Iterable[tuple[PublicDocument | None, dict[str, Any] | None]],
    progress: Callable[[int], None] | None,
) -> tuple[int, int]:
    """Each story's public document, then its staff document (their shared text analysed
    once); returns how many of each were written."""
    public_n = staff_n = pending = 0
    for public, staff in docs:
        if public is not None:
            if not isinstance(public, PublicDocument):  # by construction, never anything else
                raise TypeError("only documents from public_document() enter the public index")
            pub.add_document(**public.fields)
            public_n += 1
        if staff is not None:
            stf.add_document(**staff)
            staff_n += 1
        pending += 1
        if pending == PROGRESS_EVERY:
            if progress:
                progress(pending)
            pending = 0
    if pending and progress:
        progress(pending)
    return public_n, staff_n


class Segments:
    """New segments of one index of a build, each of at most ``bound`` documents.

    Its writers do not take the index's lock (``_lk=False``) and share its temporary folder;
    the finished segments are added to the table of contents by ``_commit_segments``, whose
    writer then removes the temporary folder."""

    def __init__(self, folder: Path, bound: int) -> None:
        self.folder = folder
        self.bound = bound
        self.done: list[Any] = []
        self.writer: BulkWriter | None = None

    def add_document(self, **fields: Any) -> None:
        if self.writer is None:
            self.writer = BulkWriter(whoosh_index.open_dir(str(self.folder)), _lk=False, limitmb=LIMIT_MB)
        self.writer.add_document(**fields)
        if self.writer.doc_count() >= self.bound:
            self.done.append(self.writer._finalize_segment())
            self.writer = None

    def finish(self) -> list[Any]:
        """The segments written (the last one finished here)."""
        if self.writer is not None:
            w, self.writer = self.writer, None
            if w._added:
                self.done.append(w._finalize_segment())
            else:
                w._close_segment()
        return self.done

    def cancel(self) -> None:
        if self.writer is not None:
            with suppress(Exception):
                self.writer._close_segment()
            self.writer = None


@contextmanager
def _writers(build: Path, bound: int) -> Iterator[tuple[Segments, Segments]]:
    """Bounded segment writers for the build's public and staff indexes."""
    pub, stf = Segments(build / PUBLIC, bound), Segments(build / STAFF, bound)
    try:
        yield pub, stf
    except BaseException:
        for w in (pub, stf):
            w.cancel()
        raise


def _commit_segments(folder: Path, segments: list[Any]) -> None:
    """Add the workers' finished segments to the index in ``folder`` (under its lock)."""
    w = whoosh_index.open_dir(str(folder)).writer()
    try:
        w._close_segment()  # its own segment stays empty
        w._commit_toc(list(w.segments) + segments)
    finally:
        w._finish()


class BulkWriter(SegmentWriter):
    """Whoosh's segment writer with batched runs and in-memory lengths (see the module)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, codec=ArchiveCodec(), **kwargs)
        self.pool = BatchedPostingPool(self._tempstorage, self.newsegment, limitmb=kwargs.get("limitmb", 128))

    def per_document_reader(self) -> Any:
        return LengthsInMemory(super().per_document_reader())


class BatchedPostingPool(PostingPool):
    """A posting pool whose sorted runs are written and read 10,000 postings per call.

    Postings are tuples of str, bytes, int, float and None, which ``marshal`` keeps exactly;
    the runs are this process's own temporary files, read back once by this process.
    """

    BATCH = 10_000

    def _write_run(self, f: Any, items: Iterable[tuple[Any, ...]]) -> None:
        it = iter(items)
        while batch := list(islice(it, self.BATCH)):
            marshal.dump(batch, f)
        f.close()

    def _read_run(self, path: str) -> Iterator[tuple[Any, ...]]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    batch = marshal.load(f)  # noqa: S302 (this process's own run file)
                except EOFError:
                    return
                yield from batch
        finally:
            f.close()
            self._remove_run(path)


class LengthsInMemory:
    """A new segment's per-document reader whose field lengths are read once per field.

    Writing postings asks for the length of the document of every posting; Whoosh reads each
    from the length column file. Same answers: ``byte_to_length`` of the stored byte, None
    for a zero byte, ``default`` for a field without lengths.
    """

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._lengths: dict[str, list[int | None] | None] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        lengths = self._lengths.get(fieldname, ...)
        if lengths is ...:
            lengths = self._lengths[fieldname] = self._read(fieldname)
        if lengths is None:
            return default
        return lengths[docnum]

    def _read(self, fieldname: str) -> list[int | None] | None:
        raw = length_bytes(self._reader, fieldname)
        if raw is None:
            return None
        table = [byte_to_length(b) if b else None for b in range(256)]
        return [table[b] for b in raw]

    def close(self) -> None:
        self._reader.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)
