"""Decoded postings kept per process: a term's document numbers and frequencies in one segment.

Reading a term's postings means decompressing its blocks, positions included (the searched
fields are positional, and a block compresses its ids, frequencies and positions together),
then joining their packed arrays (``codec``, decision 0029): about 0.1 µs per posting, and a
word met in a fifth of 100,000 stories has some 20,000 postings in each of four fields.
A segment never changes once written (a deletion only hides documents: the live mask, read
per searcher, drops them), so what was decoded stays right for as long as the segment is in
the index. Visitors ask for the same words again and again; each web worker keeps the
most recently used terms' arrays up to ``MAX_BYTES``.

A withdrawal's purge rewrites a segment into a new file, and merges replace segments: when a
searcher opens over a folder, every entry of that folder's segments that are no longer in it,
and of folders that are gone, is dropped (``keep_only``), so the words of a purged story
leave this cache with the segment that held them; a term a segment does not hold is never
kept. Nothing here is ever written to disk.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

#: At most this many bytes of arrays per process (a term met in 18,000 of 100,000 stories
#: takes 144 kB, and with its position keys, four bytes each, several times that):
#: ``search_cache_mb``, set by
#: ``search.init_app``.
MAX_BYTES = 96 * 1024 * 1024

#: (folder, segment id), then (field name, term text).
SegmentKey = tuple[str, str]
Key = tuple[SegmentKey, str, Any]
#: (document numbers, frequencies), and for a phrase's words also (starts, position keys), kept
#: narrow (int32, float32, int32, uint32 when they fit): see ``matching.segment_entry``.
Entry = tuple[np.ndarray, ...]

_entries: OrderedDict[Key, Entry] = OrderedDict()
_bytes = 0
_lock = threading.Lock()
EMPTY: Entry = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def get(key: Key) -> Entry | None:
    """A segment's (document numbers, frequencies) of a term, if kept; marks it recently used."""
    with _lock:
        found = _entries.get(key)
        if found is not None:
            _entries.move_to_end(key)
        return found


def put(key: Key, entry: Entry) -> None:
    """Keep a term's arrays, dropping the least recently used beyond ``MAX_BYTES``."""
    global _bytes
    size = _size(entry)
    if size > MAX_BYTES // 4:  # one huge term would empty the cache for itself
        return
    with _lock:
        old = _entries.pop(key, None)
        if old is not None:
            _bytes -= _size(old)
        _entries[key] = entry
        _bytes += size
        while _bytes > MAX_BYTES and _entries:
            _, dropped = _entries.popitem(last=False)
            _bytes -= _size(dropped)


def keep_only(segments: dict[str, set[str]]) -> None:
    """Drop the entries of each folder's segments that are not among those given for it, and
    every entry of a folder that is gone (a build replaced by a rebuild)."""
    global _bytes
    with _lock:
        gone = {folder for folder in {k[0][0] for k in _entries} - set(segments) if not os.path.isdir(folder)}
        for key in [
            k
            for k in _entries
            if k[0][0] in gone or (k[0][0] in segments and k[0][1] not in segments[k[0][0]])
        ]:
            _bytes -= _size(_entries.pop(key))


def clear() -> None:
    """Forget everything (tests, and a rebuild's switch to new folders)."""
    global _bytes
    with _lock:
        _entries.clear()
        _bytes = 0


def stats() -> tuple[int, int]:
    """How many terms and bytes are kept."""
    with _lock:
        return len(_entries), _bytes


def snapshot() -> list[tuple[Key, Entry]]:
    """What is kept, least recently used first (benchmarks: a worker's state to come back to)."""
    with _lock:
        return list(_entries.items())


def restore(kept: list[tuple[Key, Entry]]) -> None:
    """Keep exactly ``kept`` (from ``snapshot``) and nothing else."""
    global _bytes
    with _lock:
        _entries.clear()
        _entries.update(kept)
        _bytes = sum(_size(entry) for _, entry in kept)


def terms_under(root: str) -> list[tuple[str, Any]]:
    """The (field, term) keys kept for the indexes under the folder ``root`` (for tests that
    read what is kept)."""
    prefix = os.path.join(root, "")
    with _lock:
        return [(k[1], k[2]) for k in _entries if os.path.join(k[0][0], "").startswith(prefix)]


def _size(entry: Entry) -> int:
    return int(sum(array.nbytes for array in entry))
