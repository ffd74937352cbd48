"""Keeping an index's segments bounded and purged, off the request path (decision 0007).

A request's commit only *marks* what it deletes or replaces (``commit_policy``): the document
is hidden from every search at once (deleted documents are masked, and results are checked
again against the database), and the segment is stamped with the minute its purge became
pending. Right after the commit, ``maintain_soon`` wakes a background thread that:

1. purges every segment holding a deleted document (``scrub``: the copy keeps nothing of it),
2. merges small segments tier by tier (ten segments of 1–9 documents into one, ten of 10–99
   into one...), never into a segment above the bound ``search_segment_docs``.

Each step writes its new segment into a private folder *without* the index's write lock, then
takes the lock only to move the file in and write a new table of contents — carrying over any
deletion that arrived meanwhile — so another writer waits milliseconds, not the length of a
purge. One process at a time maintains an index (a lock file); a merge gives way as soon as a
purge is pending. A crash anywhere leaves either the old table of contents (the step is done
again by the next maintainer, which first deletes what a dead one left) or the new one (the
old segment's file is deleted by the next maintainer or commit).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import current_app, has_app_context
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, FileIndex, LockError, clean_files
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from nuevonorte import faults
from nuevonorte.config import KEYS
from nuevonorte.search.whoosh_internals.codec import ArchiveCodec
from nuevonorte.search.whoosh_internals.scrub import PENDING_SINCE, SCRUBBED, pending, scrub

__all__ = [
    "State",
    "current_segments",
    "maintain",
    "maintain_soon",
    "needs_work",
    "pending",
    "state",
    "wait",
]

log = logging.getLogger(__name__)

#: Documents per segment at most (``search_segment_docs``, whose default lives in the config):
#: a rebuild starts a new segment every this many, and no merge makes a larger one. A purge
#: rewrites one segment: about 4 s for 5,000 stories on two cores (benchmarks/withdraw.py).
DEFAULT_SEGMENT_DOCS: int = KEYS["search_segment_docs"].default
#: Segments of one tier merged together.
MERGE_FACTOR = 10
#: How long a maintainer waits for the index's write lock before trying again later.
LOCK_TIMEOUT_S = 5.0
MAINTENANCE_LOCK = ".nn-maintenance.lock"
WORK_PREFIX = ".nn-work-"


# --- the policy every commit runs ---------------------------------------------------------


def commit_policy(writer: SegmentWriter, segments: list[Any]) -> list[Any]:
    """Whoosh merge policy of every request's commit: merge nothing (merges are background
    work), drop segments with no live document (their files are deleted by this commit),
    stamp segments whose purge just became pending."""
    now = int(time.time()) // 60 * 60
    kept = []
    for segment in segments:
        if segment.doc_count() == 0:
            continue
        if pending(segment) and getattr(segment, PENDING_SINCE, None) is None:
            setattr(segment, PENDING_SINCE, now)
        kept.append(segment)
    return kept


def maintain_if_needed(folder: Path, bound: int) -> None:
    """Start the background maintenance of ``folder`` if it has something to do (after a
    commit, or on a worker's first request: a process killed mid-step leaves work)."""
    if needs_work(current_segments(folder), bound, folder):
        maintain_soon(folder, bound)


def latest_toc(folder: Path) -> str | None:
    """The name of the newest table of contents in ``folder`` (None if there is none)."""
    tocs = [p.name for p in folder.glob("_MAIN_*.toc")]
    return max(tocs, key=lambda name: int(name[6:-4]), default=None)


def needs_work(segments: list[Any], bound: int, folder: Path | None = None) -> bool:
    """Whether a maintainer has something to do on these segments (and, given the index's
    folder, on what a killed maintainer left in it: a work folder)."""
    return (
        any(pending(s) for s in segments)
        or _merge_candidates(segments, bound) is not None
        or (folder is not None and any(folder.glob(f"{WORK_PREFIX}*")))
    )


# --- what is pending, for `nuevonorte check` ----------------------------------------------


@dataclass(frozen=True)
class State:
    """What an index's segments look like (counts only)."""

    segments: int
    documents: int
    largest: int
    pending_purges: int
    oldest_pending: int | None  # Unix time, to the minute
    leftovers: int  # work folders or segment files a dead maintainer left


def state(folder: Path) -> State:
    """The segments of the index in ``folder``."""
    segments = current_segments(folder)
    waiting = [s for s in segments if pending(s)]
    since = [getattr(s, PENDING_SINCE, None) for s in waiting]
    return State(
        segments=len(segments),
        documents=sum(s.doc_count() for s in segments),
        largest=max((s.doc_count_all() for s in segments), default=0),
        pending_purges=sum(len(pending(s)) for s in waiting),
        oldest_pending=min((t for t in since if t is not None), default=None) if waiting else None,
        leftovers=len(_leftovers(folder, segments)),
    )


# --- running maintenance --------------------------------------------------------------------

_wanted: dict[Path, tuple[int, Any]] = {}
_thread: threading.Thread | None = None
#: Whether a maintenance thread is taking work from ``_wanted`` (set and cleared under the lock,
#: so a wish made while the thread is stopping is never left behind).
_running = False
_thread_lock = threading.Lock()
#: One maintainer per process at a time (the lock file excludes other processes).
_in_process = threading.Lock()


def _forget_after_fork() -> None:
    """A forked child (a rebuild's worker) starts with no maintenance of its own: the parent's
    thread does not exist in it, and its locks may have been held at the fork."""
    global _thread, _running, _thread_lock, _in_process
    _wanted.clear()
    _thread, _running = None, False
    _thread_lock, _in_process = threading.Lock(), threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def maintain_soon(folder: Path, bound: int) -> None:
    """Maintain the index in ``folder`` in a background thread of this process, now.

    The thread is not a daemon: a command that withdrew a story waits for the purge before it
    exits, and a server worker finishes it before it stops."""
    global _thread, _running
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    with _thread_lock:
        _wanted[folder] = (bound, app)
        if _running:
            return
        _running = True
        _thread = threading.Thread(target=_run_wanted, name="nn-index-maintenance", daemon=False)
        _thread.start()


def _run_wanted() -> None:
    global _running
    while True:
        with _thread_lock:
            if not _wanted:
                _running = False
                return
            folder, (bound, app) = _wanted.popitem()
        try:
            with app.app_context() if app is not None else contextlib.nullcontext():
                maintain(folder, bound)
        except Exception:  # the next commit, check or worker will try again
            log.warning("index maintenance of %s stopped; it will be tried again", folder, exc_info=True)


def wait(timeout: float | None = None) -> None:
    """Wait until this process's background maintenance is done (commands, tests)."""
    while True:
        with _thread_lock:
            thread = _thread
        if thread is None or not thread.is_alive():
            return
        thread.join(timeout)
        if timeout is not None:
            return


def maintain(folder: Path, bound: int) -> int:
    """Purge, then merge, the index in ``folder`` until nothing is left to do; returns the
    number of steps done. Does nothing when another process is maintaining it (that process
    looks again before it stops, so nothing is left behind)."""
    steps = 0
    for _ in range(READ_ATTEMPTS):  # bounded: a folder that cannot be deleted must not spin
        with _maintainer(folder) as mine:
            if not mine:
                return steps
            _clean_leftovers(folder)
            vanished = 0
            while (step := _next_step(folder, bound)) is not None:
                try:
                    if not step():
                        return steps  # the index lock stayed taken: the next commit tries again
                except FileNotFoundError:
                    # A segment being read was dropped by a commit meanwhile (all its
                    # documents deleted): choose the next step on the new table of contents.
                    vanished += 1
                    if vanished > READ_ATTEMPTS:
                        raise
                    continue
                steps += 1
        # Another process may have committed a deletion while we held the lock file and given
        # up on maintaining: look once more now that the lock file is free.
        if not needs_work(current_segments(folder), bound, folder):
            return steps
    return steps


@contextlib.contextmanager
def _maintainer(folder: Path) -> Iterator[bool]:
    """The right to maintain ``folder``: True if had, False if another maintainer has it.

    A POSIX record lock (``lockf``): held by this process only — not by the children a
    rebuild forks — and released by the kernel if the process dies."""
    if not _in_process.acquire(blocking=False):
        yield False
        return
    try:
        fd = os.open(folder / MAINTENANCE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # releases the lock
    finally:
        _in_process.release()


#: Attempts at reading a table of contents that a commit in another process replaces meanwhile.
READ_ATTEMPTS = 5


def _open(folder: Path) -> FileIndex:
    """The index in ``folder``. Every commit deletes the previous table of contents, so one
    listed a moment ago may be gone: the new one is read instead."""
    from nuevonorte.search.store import USE_MMAP

    for attempt in range(READ_ATTEMPTS):
        try:
            return FileStorage(str(folder), supports_mmap=USE_MMAP).open_index()
        except FileNotFoundError:
            if attempt == READ_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def current_segments(folder: Path) -> list[Any]:
    """The segments the newest table of contents of ``folder`` lists (read again if a commit
    replaced it while it was being read)."""
    for attempt in range(READ_ATTEMPTS):
        try:
            return list(_open(folder)._segments())
        except FileNotFoundError:
            if attempt == READ_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _leftovers(folder: Path, segments: list[Any]) -> list[Path]:
    """Work folders of a maintainer that died, and segment files no table of contents lists."""
    names = {s.segment_id() for s in segments}
    out = list(folder.glob(f"{WORK_PREFIX}*"))
    for p in folder.iterdir():
        found = TOC._segment_pattern("MAIN").match(p.name)
        if found and found.group(1) not in names:
            out.append(p)
    return out


def _clean_leftovers(folder: Path) -> None:
    """Delete what a dead maintainer left: its work folders (a copy of a segment being purged
    holds the words being purged) and segment files the table of contents no longer lists.

    Called with the maintenance lock held, so no work folder is in use; segment files are
    deleted under the index's write lock, as a commit deletes them."""
    for work in folder.glob(f"{WORK_PREFIX}*"):
        shutil.rmtree(work, ignore_errors=True)
    if not _leftovers(folder, current_segments(folder)):
        return
    ix = _open(folder)
    try:
        w = ix.writer(timeout=LOCK_TIMEOUT_S, codec=ArchiveCodec())
    except LockError:
        return
    try:
        w._close_segment()
        clean_files(w.storage, w.indexname, w.generation - 1, w.segments)
    finally:
        w._finish()


# --- choosing a step ----------------------------------------------------------------------


def _next_step(folder: Path, bound: int) -> Callable[[], bool] | None:
    """The next thing to do: a purge first, else a merge, else None."""
    segments = current_segments(folder)
    for segment in segments:
        if pending(segment):
            return functools.partial(_purge, folder, segment)
    chosen = _merge_candidates(segments, bound)
    if chosen:
        return lambda: _merge(folder, chosen, bound)
    return None


def tier(docs: int) -> int:
    """A segment's tier: 0 for 1–9 live documents, 1 for 10–99, 2 for 100–999..."""
    return int(math.log10(max(1, docs)))


def _merge_candidates(segments: list[Any], bound: int) -> list[Any] | None:
    """Up to ``MERGE_FACTOR`` of the smallest segments of the lowest tier holding at least
    that many, as long as together they fit in the bound (None: nothing to merge)."""
    tiers: dict[int, list[Any]] = {}
    for s in segments:
        if s.doc_count_all() < bound:
            tiers.setdefault(tier(s.doc_count()), []).append(s)
    for level in sorted(tiers):
        group = sorted(tiers[level], key=lambda s: s.doc_count())
        if len(group) < MERGE_FACTOR:
            continue
        chosen, total = [], 0
        for s in group[:MERGE_FACTOR]:
            if total + s.doc_count() > bound:
                break
            chosen.append(s)
            total += s.doc_count()
        if len(chosen) >= 2:
            return chosen
    return None


# --- purging and merging ------------------------------------------------------------------


def _work_folder(folder: Path) -> Path:
    work = folder / f"{WORK_PREFIX}{os.getpid()}-{time.time_ns()}"
    work.mkdir(mode=0o700)
    return work


def _purge(folder: Path, segment: Any) -> bool:
    """Scrub one segment and swap the copy in."""
    ix = _open(folder)
    work = _work_folder(folder)
    try:
        new = scrub(ix.storage, ix.schema, segment, work)
        faults.point("index.purge.written")
        return _swap(folder, work, [segment], new, [_identity(segment)])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _identity(segment: Any) -> dict[int, int]:
    return {d: d for d in range(segment.doc_count_all())}


class _GaveWay(Exception):
    """A merge stopped because a purge became pending."""


def _merge(folder: Path, sources: list[Any], bound: int) -> bool:
    """Merge ``sources`` into one new segment (their deleted documents left out)."""
    ix = _open(folder)
    work = _work_folder(folder)
    storage = FileStorage(str(work))
    toc = SimpleNamespace(generation=0, schema=ix.schema, segments=[])
    target = SimpleNamespace(storage=storage, indexname=ix.indexname, _read_toc=lambda: toc)
    check = _purge_watch(folder)
    try:
        w = _MergeWriter(target, check, _lk=False, codec=ArchiveCodec())
        maps = []
        try:
            for source in sources:
                gone = set(source.deleted_docs()) if source.has_deletions() else set()
                start = w.docnum
                live = [d for d in range(source.doc_count_all()) if d not in gone]
                maps.append({d: start + k for k, d in enumerate(live)})
                with contextlib.closing(SegmentReader(ix.storage, ix.schema, source)) as reader:
                    w.add_reader(reader)
            new = w._finalize_segment()
        finally:
            with contextlib.suppress(Exception):
                w._close_segment()
            with contextlib.suppress(Exception):
                w._tempstorage.destroy()
        if new.doc_count_all() > bound:
            raise ValueError("a merge would exceed the segment bound")
        faults.point("index.merge.written")
        return _swap(folder, work, sources, new, maps)
    except _GaveWay:
        return True  # not a failure: the purge comes first, the merge is chosen again after
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _purge_watch(folder: Path) -> Callable[[], bool]:
    """A check, cheap enough to call often, of whether a purge became pending meanwhile."""
    seen: dict[str, str | None] = {"toc": None}

    def pending_now() -> bool:
        name = latest_toc(folder)
        if name == seen["toc"]:
            return False
        seen["toc"] = name
        try:
            return any(pending(s) for s in current_segments(folder))
        except Exception:
            return False

    pending_now()
    return pending_now


class _MergeWriter(SegmentWriter):
    """Whoosh's segment writer, into a private folder, that gives way to a pending purge."""

    CHECK_EVERY = 20_000

    def __init__(self, target: Any, check: Callable[[], bool], **kwargs: Any) -> None:
        super().__init__(target, **kwargs)
        self._check = check

    def add_postings_to_pool(self, reader: Any, startdoc: int, docmap: Any) -> None:
        items = self._process_posts(reader.iter_postings(), startdoc, docmap)
        add = self.pool.add
        for n, item in enumerate(items):
            if n % self.CHECK_EVERY == 0 and self._check():
                raise _GaveWay
            add(item)


def _swap(folder: Path, work: Path, sources: list[Any], new: Any, maps: list[dict[int, int]]) -> bool:
    """Under the index's write lock: put ``new`` in the place of ``sources``.

    Deletions made in a source since it was read are carried over to ``new`` (as pending,
    with the source's stamp). When a source is gone (a rebuild, another maintainer), nothing
    is swapped. Returns False when the lock could not be had in time."""
    ix = _open(folder)
    try:
        w = ix.writer(timeout=LOCK_TIMEOUT_S, codec=ArchiveCodec())
    except LockError:
        return False
    try:
        w._close_segment()
        current = {s.segment_id(): s for s in w.segments}
        if any(s.segment_id() not in current for s in sources):
            return True
        stamps = []
        for source, docmap in zip(sources, maps, strict=True):
            now = current[source.segment_id()]
            before = set(source.deleted_docs()) if source.has_deletions() else set()
            after = set(now.deleted_docs()) if now.has_deletions() else set()
            for d in after - before:
                if d in docmap:
                    new.delete_document(docmap[d])
            if after - before:
                stamps.append(getattr(now, PENDING_SINCE, None) or int(time.time()) // 60 * 60)
        if pending(new):
            setattr(new, PENDING_SINCE, min(stamps) if stamps else int(time.time()) // 60 * 60)
        elif not hasattr(new, SCRUBBED):
            setattr(new, PENDING_SINCE, None)
        name = f"{new.segment_id()}{new.COMPOUND_EXT}"
        os.replace(work / name, folder / name)
        faults.point("index.swap.moved")
        replaced = {s.segment_id() for s in sources}
        at = min(i for i, s in enumerate(w.segments) if s.segment_id() in replaced)
        segments = [s for s in w.segments if s.segment_id() not in replaced]
        if new.doc_count() > 0:
            segments.insert(at, new)
        w._commit_toc(segments)  # deletes the replaced segments' files
        return True
    finally:
        w._finish()
