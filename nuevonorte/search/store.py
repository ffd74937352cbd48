"""The two index directories on disk: opening, writing with retries, cached searchers, swaps.

Layout under ``INDEX_DIR``: ``public`` and ``staff`` are symlinks into ``builds/<stamp>/``.
A rebuild writes a new ``builds/<stamp>/`` and then replaces each symlink with ``os.replace``,
which is atomic, so searches keep working on the old build until the swap.

Writers take Whoosh's file lock with a timeout and retry; when the lock still cannot be had,
the caller leaves the change in the search log (``sync``, ``follow``) and it is applied later, so a
visitor or curator never sees ``LockError`` (docs/security.md F05).
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex, LockError
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

from nuevonorte.search import common_words
from nuevonorte.search.documents import PublicDocument
from nuevonorte.search.schema import SCHEMA_VERSION, public_schema, staff_schema
from nuevonorte.search.whoosh_internals import segments
from nuevonorte.search.whoosh_internals.codec import ArchiveCodec

log = logging.getLogger(__name__)
T = TypeVar("T")

PUBLIC = "public"
STAFF = "staff"
KINDS = (PUBLIC, STAFF)
WRITER_TIMEOUT_S = 5.0
WRITER_ATTEMPTS = 3
#: Whoosh maps segment files into memory by default; a segment truncated under a running
#: worker then kills it with SIGBUS instead of raising (F07). Plain reads raise an error we
#: can turn into "temporarily unavailable"; the cost is measured in benchmarks/search.py.
USE_MMAP = False
#: The file (a dot file: Whoosh's clean-up leaves it alone) naming the schema an index was
#: built with; an index without it predates schema versions (version "1").
SCHEMA_MARKER = ".nn-schema"


class IndexUnavailable(Exception):
    """The index is missing, corrupt or locked for too long; search must say so politely."""


class RebuildFailed(Exception):
    """A rebuild could not be completed; the indexes in use are unchanged."""


def index_root() -> Path:
    """The configured index folder."""
    return Path(current_app.config["INDEX_DIR"])


def index_path(kind: str, root: Path | None = None) -> Path:
    """The path (a symlink once built) of the ``public`` or ``staff`` index."""
    return (root or index_root()) / kind


def _schema(kind: str, common: common_words.Common) -> Any:
    return public_schema(common) if kind == PUBLIC else staff_schema()


def open_index(kind: str, root: Path | None = None) -> FileIndex:
    """Open an index through its symlink's current target; IndexUnavailable if it cannot."""
    return _opened(kind, root, lambda ix: ix)


def open_searcher(kind: str, root: Path | None = None) -> Searcher:
    """A new searcher over the index's current generation; IndexUnavailable if it cannot."""
    return _opened(kind, root, lambda ix: ix.searcher())


def open_reader(kind: str, root: Path | None = None) -> IndexReader:
    """A new reader over the index's current generation; IndexUnavailable if it cannot."""
    return _opened(kind, root, lambda ix: ix.reader())


#: How often opening is tried again when another process committed in the meantime.
OPEN_ATTEMPTS = segments.READ_ATTEMPTS


def _opened(kind: str, root: Path | None, then: Callable[[FileIndex], T]) -> T:
    """Open the index and apply ``then`` to it (make a searcher, a reader...).

    Every Whoosh commit deletes the previous table of contents and the segments it merged
    away. A reader that listed the folder just before a commit in another process then finds
    its files gone (FileNotFoundError) although the index is whole: that is tried again on
    the new generation. A file missing while the table of contents stays the same is damage,
    and the index is unavailable.
    """
    path = index_path(kind, root)
    try:
        real = path.resolve(strict=True)
    except OSError as e:
        raise IndexUnavailable(f"{kind} index cannot be opened: {type(e).__name__}") from e
    version = schema_version(real)
    # An index built by an older version (its fields are not ours) is not opened at all.
    if version != SCHEMA_VERSION and any(real.glob("_MAIN_*.toc")):
        raise IndexUnavailable(
            f"{kind} index has schema {version}, this version needs {SCHEMA_VERSION}: "
            "run `nuevonorte reindex`"
        )
    error: Exception | None = None
    for _ in range(OPEN_ATTEMPTS):
        before = segments.latest_toc(real)
        try:
            storage = FileStorage(str(real), supports_mmap=USE_MMAP)
            return then(storage.open_index(schema=_schema(kind, common_words.load(real))))
        except FileNotFoundError as e:
            error = e
            if segments.latest_toc(real) != before:
                continue  # a commit moved the index on meanwhile: open the new generation
        except Exception as e:  # a missing folder, missing TOC, garbage: all mean "rebuild me"
            error = e
        break
    collect_abandoned_files()
    raise IndexUnavailable(f"{kind} index cannot be opened: {type(error).__name__}") from error


def schema_version(folder: Path) -> str:
    """The schema version an index folder was built with ("1": before versions were kept)."""
    try:
        return (folder / SCHEMA_MARKER).read_text().strip()
    except OSError:
        return "1"


def collect_abandoned_files() -> None:
    """Close the files Whoosh leaves open when it fails half-way through reading a damaged
    index (it has no cleanup on that path); they are garbage now, so collect them quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def exists(kind: str, root: Path | None = None) -> bool:
    """Whether the index looks present (it may still be corrupt)."""
    path = index_path(kind, root)
    return path.exists() and whoosh_index.exists_in(str(path.resolve()))


def has_files(kind: str, root: Path | None = None) -> bool:
    """Whether the index has a table of contents at all (cheap: reads no file; a damaged
    index has files, and opening it says what is wrong)."""
    try:
        return segments.latest_toc(index_path(kind, root).resolve(strict=True)) is not None
    except OSError:
        return False


def is_current(kind: str, root: Path | None = None) -> bool:
    """Whether the index is present and built with this version's schema."""
    return exists(kind, root) and schema_version(index_path(kind, root).resolve()) == SCHEMA_VERSION


# --- writing ------------------------------------------------------------------------------


def segment_bound() -> int:
    """The most documents a segment holds (``search_segment_docs``)."""
    return int(current_app.config.get("SEARCH_SEGMENT_DOCS", segments.DEFAULT_SEGMENT_DOCS))


@contextmanager
def writer(kind: str, root: Path | None = None) -> Iterator[SegmentWriter]:
    """A writer for the index, retried on lock contention.

    Its commit merges nothing and purges nothing: what it deletes or replaces is marked (and
    so hidden from every search at once), and the background maintenance started right after
    the commit purges it from the files and merges small segments (``segments``). Raises
    IndexUnavailable when the index is missing/corrupt or stays locked.
    """
    ix = open_index(kind, root)
    w = None
    for attempt in range(WRITER_ATTEMPTS):
        try:
            w = ix.writer(timeout=WRITER_TIMEOUT_S, codec=ArchiveCodec())
            break
        except LockError:
            log.warning("%s index locked (attempt %d)", kind, attempt + 1)
    if w is None:
        raise IndexUnavailable(f"{kind} index stayed locked")
    try:
        yield w
    except BaseException:
        w.cancel()
        raise
    w.commit(mergetype=segments.commit_policy)
    segments.maintain_if_needed(Path(ix.storage.folder), segment_bound())


def write_public(
    docs: Iterable[PublicDocument], delete_sids: Iterable[str], root: Path | None = None
) -> None:
    """Apply changes to the public index. Only ``PublicDocument`` objects can be added."""
    deletes = list(delete_sids)
    with writer(PUBLIC, root) as w:
        for sid in deletes:
            w.delete_by_term("sid", sid)
        for doc in docs:
            if not isinstance(doc, PublicDocument):  # by construction, never anything else
                raise TypeError("only documents from public_document() enter the public index")
            w.update_document(**doc.fields)


def write_staff(docs: Iterable[dict[str, Any]], delete_sids: Iterable[str], root: Path | None = None) -> None:
    """Apply changes to the staff index."""
    deletes = list(delete_sids)
    with writer(STAFF, root) as w:
        for sid in deletes:
            w.delete_by_term("sid", sid)
        for doc in docs:
            w.update_document(**doc)


_resumed: set[str] = set()


def resumed() -> bool:
    """Whether this process has resumed the maintenance of the current index folder."""
    return str(index_root()) in _resumed


def resume_maintenance() -> None:
    """Once per process and index folder: start the background maintenance if a purge or a
    merge is waiting (a process killed mid-purge leaves one). Reads two tables of contents."""
    key = str(index_root())
    if key in _resumed:
        return
    _resumed.add(key)
    for kind in KINDS:
        try:
            segments.maintain_if_needed(Path(open_index(kind).storage.folder), segment_bound())
        except (IndexUnavailable, OSError):
            continue  # no index yet, or a damaged one: search reports it


def pending_purge(kind: str, root: Path | None = None) -> bool:
    """Whether the index files still hold words of deleted or replaced documents."""
    return any(segments.pending(s) for s in segments.current_segments(index_path(kind, root).resolve()))


def purge(kind: str, root: Path | None = None) -> None:
    """Purge (and merge) the index now, in this thread; waits for this process's background
    maintenance first. Another process maintaining it finishes the work itself."""
    segments.wait()
    segments.maintain(index_path(kind, root).resolve(), segment_bound())


def segment_state(kind: str, root: Path | None = None) -> segments.State:
    """Segment count, documents, largest segment, pending purges and their age."""
    return segments.state(index_path(kind, root).resolve())


def indexed_sids(kind: str, root: Path | None = None) -> set[str]:
    """The story ids present (not deleted) in an index."""
    with open_searcher(kind, root) as s:
        return {fields["sid"] for fields in s.all_stored_fields()}


def missing_sids(kind: str, sids: list[str], root: Path | None = None) -> list[str]:
    """The ids among ``sids`` that have no live document in the index (a term lookup each)."""
    if not sids:
        return []
    with open_searcher(kind, root) as s:
        return [sid for sid in sids if s.document_number(sid=sid) is None]


def lexicon(kind: str, fieldname: str, root: Path | None = None) -> set[str]:
    """Every term of ``fieldname`` in the index files, deleted documents' terms included."""
    with open_reader(kind, root) as r:
        return {t.decode("utf-8") if isinstance(t, bytes) else t for t in r.lexicon(fieldname)}


# --- building and swapping ----------------------------------------------------------------


def new_build(root: Path | None = None, common: common_words.Common = common_words.NONE) -> Path:
    """Create an empty ``builds/<stamp>/`` folder holding empty public and staff indexes; the
    public one's text fields index the pairs of the ``common`` words (``common_words``: what
    visitors' phrases read; curators' phrases in the staff index are matched on positions)."""
    root = root or index_root()
    build = root / "builds" / f"{time.time_ns()}-{os.getpid()}"
    for kind in KINDS:
        (build / kind).mkdir(parents=True)
        chosen = common if kind == PUBLIC else common_words.NONE
        common_words.save(build / kind, chosen)
        whoosh_index.create_in(str(build / kind), _schema(kind, chosen))
        (build / kind / SCHEMA_MARKER).write_text(SCHEMA_VERSION)
    return build


def check_counts(build: Path, expected: tuple[int, int]) -> None:
    """Refuse a build whose indexes do not hold the number of documents written to them.

    Whoosh's parallel writer waits only a second for each worker's result and drops a late
    one silently; a build missing documents must not replace the current one.
    """
    for kind, count in zip(KINDS, expected, strict=True):
        held = whoosh_index.open_dir(str(build / kind)).doc_count()
        if held != count:
            raise RebuildFailed(f"{kind} index build holds {held} documents, {count} were written")


def swap_in(build: Path, root: Path | None = None) -> None:
    """Point ``public`` and ``staff`` at ``build`` atomically, then delete every other build.

    No earlier build is kept: it would be more public than the live one as soon as a story
    is withdrawn (T02). A worker whose searcher still points at it reopens on its next search
    (the link's target changed); a search in flight at that moment keeps its open files or,
    at worst, answers "temporarily unavailable".
    """
    root = root or index_root()
    for kind in KINDS:
        link = index_path(kind, root)
        tmp = root / f".{kind}.{os.getpid()}.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(Path("builds") / build.name / kind)  # relative: the folder may move
        if link.exists() and not link.is_symlink():  # an index made by hand: move it aside
            shutil.rmtree(link) if link.is_dir() else link.unlink()
        os.replace(tmp, link)
    delete_other_builds(root)


def current_builds(root: Path | None = None) -> set[str]:
    """The names of the builds the ``public`` and ``staff`` links point into."""
    root = root or index_root()
    names = set()
    for kind in KINDS:
        link = index_path(kind, root)
        if link.is_symlink():
            names.add(Path(os.readlink(link)).parent.name)
    return names


def stray_builds(root: Path | None = None) -> list[Path]:
    """Builds no link points into: earlier builds, or what a dead rebuild left half-written.

    Only meaningful while no rebuild is running (the caller holds the rebuild lock)."""
    root = root or index_root()
    folder = root / "builds"
    if not folder.is_dir():
        return []
    keep = current_builds(root)
    return sorted(p for p in folder.iterdir() if p.name not in keep)


def delete_other_builds(root: Path | None = None) -> list[Path]:
    """Delete every build but the current one; returns what was deleted."""
    stray = stray_builds(root)
    for path in stray:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    return stray


# --- searchers, one per worker, refreshed only when the index changed ---------------------

_searchers: dict[str, tuple[str, Searcher]] = {}
_searchers_lock = threading.RLock()


@contextmanager
def searcher(kind: str) -> Iterator[Searcher]:
    """The worker's searcher for ``kind``, reopened when the index or its build changed.

    Not ``Searcher.refresh()``: in whoosh-reloaded 2.7.5, ``FileIndex._reader(reuse=...)``
    adds the old reader's segments to the new segment list, so a segment a merge replaced
    (e.g. one purged of a withdrawn story) would be searched again; it also fails with
    TypeError on single-segment readers. A fresh searcher costs more after each change but
    never shows what was removed. Searches in one worker take turns on the cached searcher (a
    lock), so replacing it never closes one another thread is reading. IndexUnavailable when
    it cannot be opened or read (a truncated segment fails only when read).
    """
    key = f"{index_root()}::{kind}"
    try:
        current = version(kind)
    except OSError:
        raise IndexUnavailable(f"{kind} index is missing") from None
    with _searchers_lock:
        error = None
        with abandoned_files_ignored():
            cached = _searchers.get(key)
            try:
                # Reused only while the same build and the same TOC file (name, inode, size,
                # mtime) are current: any commit, swap or outside damage to it reopens.
                s = cached[1] if cached and cached[0] == current else open_searcher(kind)
            except Exception as e:  # whatever a damaged index raises means "unavailable"
                error = f"{kind} index cannot be read: {type(e).__name__}"
        if error:
            _forget(key)
            raise IndexUnavailable(error)
        if cached and cached[1] is not s:
            close_quietly(cached[1])
        _searchers[key] = (current, s)
        with abandoned_files_ignored():
            try:
                yield s
            except Exception as e:
                error = f"{kind} index failed while searching: {type(e).__name__}"
        if error:
            _forget(key)
            raise IndexUnavailable(error)


def version(kind: str, root: Path | None = None) -> str:
    """Which build and table of contents of the index are current (OSError: none)."""
    real = index_path(kind, root).resolve(strict=True)
    return f"{real}::{_toc_signature(real)}"


@contextmanager
def abandoned_files_ignored() -> Iterator[None]:
    """Whoosh leaves files open when it fails half-way through a damaged index; they are
    closed when the exception is dropped. Do not let that turn into ResourceWarnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield


def _toc_signature(folder: Path) -> str:
    """Which table of contents is current: its name, inode, size and modification time.

    A commit in another process may delete the one just listed; the newer one is read then.
    """
    for _ in range(OPEN_ATTEMPTS):
        name = segments.latest_toc(folder)
        if name is None:
            break
        try:
            st = (folder / name).stat()
        except FileNotFoundError:
            continue
        return f"{name}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    raise OSError("no table of contents")


def forget_searchers() -> None:
    """Close every cached searcher (after a failure, or in tests)."""
    with _searchers_lock:
        for key in list(_searchers):
            _forget(key)


def _forget(key: str) -> None:
    cached = _searchers.pop(key, None)
    if cached:
        close_quietly(cached[1])
    collect_abandoned_files()


def close_quietly(s: Searcher) -> None:
    try:
        s.close()
    except Exception:  # a corrupt or deleted index may fail to close; it is dropped anyway
        log.debug("closing a searcher failed", exc_info=True)
