"""Which documents match a query, their facet counts and the best of them, on arrays.

Whoosh's matchers hand out one posting per Python call and score every match; at 100,000
stories that was most of a search's time (docs/parts/search.md). Here each query term's postings
are read once, a block at a time, into arrays; matching is a boolean mask over document
numbers (ORs and ANDs are ``|`` and ``&``), facet counts are a ``bincount`` over per-segment
document -> value tables, and ranking is Whoosh's own BM25F computed with numpy for the
matched documents only. Counts are exact. Phrases are matched on the same arrays: each
word's positions (its postings' values in a positional field) are decoded as keys that rise
over its whole list, the documents holding every word are found, and only the positions of
the word with the fewest there are walked, each asked of the other words' keys at once
(``Search.phrase_mask``, decision 0032); a phrase of two common words is the documents of
its pair term instead (``schema.pair_term``, decision 0034); phrases are ranked as their words.

Relies on whoosh-reloaded 2.7.5's W3 codec internals (pinned): a leaf matcher's decoded
block (``_data``: id deltas, term frequencies, values) and a segment's length column.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import partial
from itertools import accumulate
from math import log
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.query import And, Every, Or, Phrase, Query, Term
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from nuevonorte.search.schema import pair_term
from nuevonorte.search.whoosh_internals import postings_cache
from nuevonorte.search.whoosh_internals.codec import (
    SIZED_VALUES,
    Buffer,
    PackedPositions,
    extent_length,
    inflate,
    length_bytes,
    packed_parts,
    posting_blocks,
)

#: Per-segment tables (facet values, field lengths), keyed by (folder, segment id, what). A segment
#: never changes once written (a deletion only hides documents, and hidden documents never
#: reach a count), so a table stays valid until the segment is merged away; a publish only
#: adds a small segment, whose tables are cheap to build.
_segment_tables: dict[tuple[str, str, str], Any] = {}
MAX_SEGMENT_TABLES = 400
_BYTE_TO_LENGTH = np.array([byte_to_length(i) or 1 for i in range(256)], dtype=np.float64)

Array = np.ndarray
#: Position keys (``packed_positions``) are uint32 while the last one fits.
_NARROW_KEYS = int(np.iinfo(np.uint32).max)
#: Facet counts read only the matched documents' pairs when they are fewer than the facet's
#: pairs divided by this (a gather of a few pairs each, against a test of every pair).
SPARSE_FACTOR = 4
#: At most this many (segment, field, term) absences are remembered per searcher.
MAX_LACKING = 200_000


class Matcher:
    """The matching machinery of one searcher: its segments and per-searcher caches."""

    def __init__(self, s: Searcher) -> None:
        self.s = s
        self.segments: list[tuple[Searcher, int]] = s.subsearchers or [(s, 0)]
        self.size = s.doc_count_all()
        self._live: Array | None = None
        self._facets: dict[str, Facet] = {}
        self._lengths: dict[str, Array] = {}
        #: Each segment's key in the per-process postings cache (None: not cached).
        self.keys: list[postings_cache.SegmentKey | None] = [_segment_key(sub) for sub, _ in self.segments]
        folders: dict[str, set[str]] = {}
        own = _index_folder(s)
        if own is not None:  # an index left with no segment at all keeps nothing either
            folders[own] = set()
        for key in self.keys:
            if key is not None:
                folders.setdefault(key[0], set()).add(key[1])
        postings_cache.keep_only(folders)  # merged and purged segments leave the cache
        #: (segment number, field, term) of the terms a segment was found to lack. Looking a
        #: term up costs a few file reads per segment even when it is absent (a word of the
        #: other language's fields, or met in a few segments only), again for every query; this
        #: lives only as long as this searcher, which any commit replaces (a purge too), so no
        #: word is remembered past the index version it was looked up in.
        self.lacking: set[tuple[int, str, Any]] = set()

    @classmethod
    def of(cls, s: Searcher) -> Matcher:
        """The matcher cached on a searcher (searchers live as long as their index version)."""
        cached: Matcher | None = s.__dict__.get("_nn_matcher")
        if cached is None:
            cached = s.__dict__["_nn_matcher"] = cls(s)
        return cached

    def live(self) -> Array:
        """A mask of the documents not deleted."""
        if self._live is None:
            live = np.ones(self.size, dtype=bool)
            for sub, offset in self.segments:
                reader = sub.reader()
                if reader.has_deletions():
                    dead = np.fromiter(reader.deleted_docs_set, dtype=np.int64)  # a cached property
                    live[dead + offset] = False
            self._live = live
        return self._live

    def lengths(self, fieldname: str) -> Array:
        """Every document's length of ``fieldname`` (as Whoosh stores it: one byte, lossy)."""
        if fieldname not in self._lengths:
            parts = [_segment_table(sub, fieldname, "len", _read_lengths) for sub, _ in self.segments]
            self._lengths[fieldname] = np.concatenate(parts) if parts else np.ones(0)
        return self._lengths[fieldname]

    def facet(self, name: str) -> Facet:
        """A facet's values and its (document, value index) pairs for the whole index, in
        document order, with where each document's pairs start."""
        if name not in self._facets:
            index: dict[str, int] = {}
            docs, codes, starts = [], [], []
            pairs = 0
            for sub, offset in self.segments:
                seg = _segment_table(sub, name, "facet", _read_facet)
                remap = np.array([index.setdefault(v, len(index)) for v in seg.values], dtype=np.int64)
                docs.append(seg.docs + offset)
                codes.append(remap[seg.codes] if len(seg.codes) else seg.codes)
                starts.append(seg.starts[:-1] + pairs)
                pairs += len(seg.docs)
            empty = np.zeros(0, dtype=np.int64)
            self._facets[name] = Facet(
                list(index),
                np.concatenate(docs) if docs else empty,
                np.concatenate(codes) if codes else empty,
                np.concatenate([*starts, [pairs]]).astype(np.int64),
            )
        return self._facets[name]


class Facet(NamedTuple):
    """A facet's values and (document, value index) pairs, in document order."""

    values: list[str]
    docs: Array
    codes: Array
    #: Where each document's pairs start (one more than documents: the last is the end).
    starts: Array


def _segment_key(sub: Searcher) -> postings_cache.SegmentKey | None:
    """A segment's name in per-process caches: its folder, and its id with the inode and
    modification time of its file. Segment ids are random names that Whoosh draws from
    ``random``, which anything may seed (Hypothesis does, for each example), so a rebuilt
    folder may hold a new segment under an old id; its file is never the same file. None
    (nothing cached) when the segment has no file to tell."""
    reader = sub.reader()
    segment = reader.segment() if hasattr(reader, "segment") else None
    folder = _folder(reader)
    if segment is None or folder is None:
        return None
    name = segment.make_filename(segment.COMPOUND_EXT if segment.is_compound() else ".trm")
    try:
        found = os.stat(os.path.join(folder, name))
    except OSError:
        return None
    return folder, f"{segment.segment_id()}:{found.st_ino}:{found.st_mtime_ns}"


def _segment_table(sub: Searcher, name: str, what: str, build: Any) -> Any:
    segment = _segment_key(sub)
    key = (*segment, f"{what}:{name}") if segment is not None else None
    table = _segment_tables.get(key) if key else None
    if table is None:
        table = build(sub, name)
        if key:
            if len(_segment_tables) >= MAX_SEGMENT_TABLES:
                _segment_tables.clear()
            _segment_tables[key] = table
    return table


def _index_folder(s: Searcher) -> str | None:
    """The folder of the index a searcher was opened on (None in memory), segments or not."""
    storage = getattr(getattr(s, "_ix", None), "storage", None)
    folder = getattr(storage, "folder", None)
    return str(folder) if folder is not None else None


def _folder(reader: Any) -> str | None:
    """The folder of a segment's files (None in memory): segment ids are unique within one
    index but not across indexes, so cache keys need both."""
    storage = getattr(reader, "_storage", None)
    storage = getattr(storage, "b", storage)  # a compound segment: its files over the folder
    folder = getattr(storage, "folder", None)
    return str(folder) if folder is not None else None


def _read_lengths(sub: Searcher, fieldname: str) -> Array:
    reader = sub.reader()
    count = reader.doc_count_all()
    lengths = np.ones(count, dtype=np.float64)
    perdoc = getattr(reader, "_perdoc", None)
    found = length_bytes(perdoc, fieldname) if perdoc is not None else None
    if found is not None:
        raw = np.frombuffer(found, dtype=np.uint8)
        lengths[: len(raw)] = _BYTE_TO_LENGTH[raw[:count]]
    return lengths


def _read_facet(sub: Searcher, name: str) -> Facet:
    reader = sub.reader()
    values: list[str] = []
    docs: list[Array] = []
    codes: list[Array] = []
    if name in sub.schema:
        for term in reader.lexicon(name):
            read = read_term(reader, name, term, values=False)
            ids = read.ids if read is not None else np.zeros(0, dtype=np.int64)
            codes.append(np.full(len(ids), len(values), dtype=np.int64))
            docs.append(ids)
            values.append(term.decode("utf-8") if isinstance(term, bytes) else str(term))
    empty = np.zeros(0, dtype=np.int64)
    all_docs = np.concatenate(docs) if docs else empty
    all_codes = np.concatenate(codes) if codes else empty
    order = np.argsort(all_docs, kind="stable")
    in_order = all_docs[order]
    starts = np.searchsorted(in_order, np.arange(reader.doc_count_all() + 1)).astype(np.int64)
    return Facet(values, in_order, all_codes[order], starts)


class Postings(NamedTuple):
    """A term's postings in one segment, deleted documents included."""

    #: Document numbers, in order (int32 from packed blocks).
    ids: Array
    #: Each one's weight (the term's frequency in the field), float32 as W3 keeps them.
    weights: Array
    #: With values asked for: each posting's value length in bytes (int64), and the values
    #: joined, in one or more parts (in a positional field, ``PackedPositions``); else None
    #: and no part.
    lengths: Array | None
    values: Sequence[Buffer]


def term_postings(m: Any, values: bool = False) -> Postings:
    """Every posting of a fresh leaf matcher, read a term's packed blocks at a time (deleted
    documents included), with each posting's value if ``values``."""
    if isinstance(m, FilterMatcher):  # a segment with deletions: the live mask handles them
        m = m.child
    if isinstance(m, W3LeafMatcher):
        whole = _whole_postings(m, values)
        if whole is not None:
            return whole
    # Blocks not packed (a segment Whoosh wrote with its own codec): Whoosh's own reading.
    ids: list[int] = []
    weights: list[float] = []
    found: list[bytes] = []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        if values:
            found.append(m.value())
        m.next()
    return Postings(
        np.array(ids, dtype=np.int64),
        _narrow_weights(np.array(weights, dtype=np.float64)),
        np.fromiter(map(len, found), dtype=np.int64, count=len(found)) if values else None,
        [b"".join(found)] if values else [],
    )


def _whole_postings(m: W3LeafMatcher, values: bool) -> Postings | None:
    """``extent_postings`` of a leaf matcher's posting list."""
    length = extent_length(getattr(m, "_length", None))
    if length is None or m._byteids:
        return None
    return extent_postings(m._postfile, m._startoffset, length, values)


def read_term(reader: Any, fieldname: str, text: Any, values: bool) -> Postings | None:
    """A term's postings in one segment, deleted documents included; None when the segment
    lacks it. The term's entry is looked up and its byte range read at once: a leaf matcher
    would first read its first block's header (about twenty small reads of the segment file)."""
    terms = getattr(reader, "_terms", None)
    postfile = getattr(terms, "_postfile", None)
    try:
        info = reader.term_info(fieldname, text) if postfile is not None else None
    except TermNotFound:
        return None
    if info is not None and not info.is_inlined():
        offset, length = info.extent()
        length = extent_length(length)
        found = extent_postings(postfile, offset, length, values) if length is not None else None
        if found is not None:
            return found
    try:  # not laid out as ours (postings in the term table, W3's own blocks): Whoosh reads it
        return term_postings(reader.postings(fieldname, text), values)
    except TermNotFound:
        return None


def extent_postings(postfile: Any, offset: int, length: int, values: bool) -> Postings | None:
    """All of a term's postings from one read of its byte range, its packed blocks parsed in
    memory and their arrays joined (``codec``: ids, weights and values as little-endian arrays).

    Without mmap, stepping through blocks costs about twenty small file reads per block (its
    length, its pickled header, its data); one read of the term's whole extent, walked with
    ``codec.posting_blocks``, is far cheaper. None when the bytes are not laid out so, or a
    block is not packed (the caller then reads through Whoosh), or when values are asked of a
    field whose values are not each sized (``SIZED_VALUES``).
    """
    if length <= 4:
        return None
    buf = postfile.get(offset, length)
    if buf[:4] != WHOOSH3_HEADER_MAGIC:
        return None
    view = memoryview(buf)
    id_parts: list[Array] = []
    weight_parts: list[Array] = []
    length_parts: list[Array] = []
    value_parts: list[Buffer] = []
    counts: list[int] = []
    last_ids: list[int] = []
    for (count, last, _maxweight, compression, _minlen, _maxlen), data_start, block_end in posting_blocks(
        buf, 0, len(buf)
    ):
        blob = view[data_start:block_end]
        # Views of the block's data: each array below is copied once, when joined.
        parts = packed_parts(memoryview(inflate(blob)) if compression else blob, count)
        if parts is None or (values and parts[2] != SIZED_VALUES):
            return None
        id_parts.append(np.frombuffer(parts[0], dtype="<u4"))
        weight_parts.append(np.frombuffer(parts[1], dtype="<f4"))
        length_parts.append(np.frombuffer(parts[3], dtype="<u4"))
        value_parts.append(parts[4])
        counts.append(count)
        last_ids.append(last)
    if not counts:
        return None
    # Document numbers are below 2**31 (Whoosh's own bound), as are their running sums.
    deltas = np.concatenate(id_parts, dtype=np.int32)
    if len(counts) > 1:  # W3's deltas start again from 0 in each block: from the last id before
        deltas[np.cumsum(counts[:-1])] -= np.array(last_ids[:-1], dtype=np.int32)
    return Postings(
        np.cumsum(deltas, dtype=np.int32, out=deltas),
        np.concatenate(weight_parts, dtype=np.float32),
        np.concatenate(length_parts, dtype=np.int64) if values else None,
        value_parts if values else [],
    )


def packed_positions(lengths: Array, values: Sequence[Buffer]) -> tuple[Array, Array]:
    """Where each posting's positions start (and, last, where they end), and a key for each
    position (strictly increasing over the whole list: uint32 when the last fits, else int64),
    from ``PackedPositions`` values (joined, in one or more parts): each the u32 deltas of its
    positions.

    The keys are the running sum of every delta, with one more at each posting's first: the
    keys of posting r are ``before + position + 1``, all above ``before`` (the last key of the
    postings before it, 0 for the first) and at most the first key of the next. So whether
    posting r holds position q is one ``searchsorted`` of ``before + q + 1`` in the keys of the
    whole list, with no pass over the postings nobody asked about, and no running sum that
    starts again at each posting (``phrase_mask``, ``posting_positions``).
    """
    counts = lengths // 4
    keys: Array = np.concatenate([np.frombuffer(part, dtype="<u4") for part in values], dtype=np.uint32)
    if len(keys) != int(counts.sum()):
        raise ValueError("packed positions do not add up to their lengths")
    starts = np.concatenate(([0], np.cumsum(counts)))
    firsts = starts[:-1][counts > 0]
    if int(keys.sum(dtype=np.int64)) + len(firsts) > _NARROW_KEYS:
        keys = keys.astype(np.int64)
    keys[firsts] += 1
    np.cumsum(keys, dtype=keys.dtype, out=keys)
    return starts, keys


def posting_positions(starts: Array, keys: Array, row: int) -> Array:
    """The positions of posting ``row`` (``packed_positions``' starts and keys)."""
    span = _spans(np.array([row]), starts, keys)
    found: Array = keys[span.first[0] : span.first[0] + span.counts[0]] - span.base[0]
    return found


def _runs(first: Array, counts: Array) -> Array:
    """The indices of runs one after another: first[0], …, first[0] + counts[0] - 1, then
    first[1], … (each document's pairs of a facet, each candidate's keys of a word)."""
    found: Array = np.repeat(first - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    return found


def segment_entry(
    sub: Searcher, key: postings_cache.SegmentKey | None, fieldname: str, text: Any, positions: bool
) -> postings_cache.Entry | None:
    """A term's arrays in one segment (``key``: its name in the postings cache, None: not
    cached): (document numbers, frequencies), and with ``positions`` (starts, position keys:
    ``packed_positions``) too; from the cache, or decoded and kept there. None when the
    segment lacks the term (nothing is kept then, so no word lingers)."""
    cached = (key, fieldname, text) if key is not None else None
    entry = postings_cache.get(cached) if cached is not None else None
    if entry is not None and (not positions or len(entry) == 4):
        return entry
    if positions and type(sub.schema[fieldname].format) is not PackedPositions:
        raise ValueError(f"{fieldname} does not keep packed positions")
    read = read_term(sub.reader(), fieldname, text, positions)  # one look-up of the term
    if read is None:
        return None
    entry = (read.ids.astype(np.int32, copy=False), _narrow_weights(read.weights))
    if positions:
        assert read.lengths is not None  # asked for with the values
        starts, keys = packed_positions(read.lengths, read.values)
        entry = (*entry, starts.astype(np.int32), keys)
    if cached is not None:
        postings_cache.put(cached, entry)
    return entry


def _narrow_weights(weights: Array) -> Array:
    """Term frequencies as float32 when that keeps every one exactly (they are whole numbers in
    the archive's fields): a kept entry takes half the memory, and ranking reads the same
    values once ``Search._read`` widens them again."""
    if weights.dtype == np.float32:  # as packed blocks keep them
        return weights
    narrow = weights.astype(np.float32)
    return narrow if np.array_equal(narrow, weights) else weights


def _raised(parts: list[Array], by: list[int], dtype: Any) -> Array:
    """``parts`` one after another, each raised by its number of ``by``, in one pass."""
    out: Array = np.empty(sum(map(len, parts)), dtype=dtype)
    at = 0
    for part, raise_by in zip(parts, by, strict=True):
        np.add(part, raise_by, out=out[at : at + len(part)], dtype=dtype)
        at += len(part)
    return out


def _joined_keys(parts: list[Array]) -> Array:
    """Segments' position keys as one list's: each segment's raised above the last key of the
    segments before it (in document order), so they stay strictly increasing, and so posting
    r's keys stay above the key before them (uint32 while the last fits, as in a segment)."""
    below = list(accumulate((int(part[-1]) if len(part) else 0 for part in parts), initial=0))
    return _raised(parts, below[:-1], np.uint32 if below[-1] <= _NARROW_KEYS else np.int64)


class Spans(NamedTuple):
    """One word's position keys in each of a phrase's candidate documents: position q of the
    word in candidate c has the key ``base[c] + q``, for q below ``width[c]``
    (``packed_positions``)."""

    first: Array  # where its keys start in the word's keys
    counts: Array
    base: Array
    width: Array
    last: Array  # its last key (increasing with c)


def _spans(rows: Array, starts: Array, keys: Array) -> Spans:
    """``Spans`` of a word in the candidates that are its postings ``rows`` (increasing)."""
    first, end = starts[rows], starts[rows + 1]
    # The key before a posting's first is its keys' floor; none before the list's first (0).
    before = keys[first - 1].astype(np.int64)  # -1: the list's last key, put right below
    last = keys[end - 1].astype(np.int64)  # ``before`` again if it has none
    if len(rows) and rows[0] == 0:
        before[0] = 0
        last[0] = last[0] if end[0] > 0 else 0
    return Spans(first, end - first, before + 1, last - before, last)


#: Which of a phrase's sought keys a word holds is found by joining both lists and sorting
#: them (two sorted runs: a merge, about 5 ns per key of either) when the sought keys are at
#: least the word's keys divided by this, else by a binary search of each (about 30 ns).
MERGE_FROM = 5


def _held(sought: Array, keys: Array) -> Array:
    """The keys of ``sought`` that ``keys`` holds too (both strictly increasing)."""
    if len(sought) * MERGE_FROM < len(keys):
        found = np.searchsorted(keys, sought)
        held: Array = sought[keys[np.minimum(found, len(keys) - 1)] == sought]
        return held
    joined = np.concatenate((sought, keys))
    joined.sort(kind="stable")
    twice: Array = joined[:-1][joined[1:] == joined[:-1]]  # each list holds a key once
    return twice


class Search:
    """One query over a searcher: each term's postings read once, for matching and ranking."""

    def __init__(self, s: Searcher) -> None:
        self.s = s
        self.m = Matcher.of(s)
        self._terms: dict[tuple[str, Any], tuple[Array, Array]] = {}
        self._positions: dict[tuple[str, Any], tuple[Array, Array]] = {}

    def term(self, fieldname: str, text: Any) -> tuple[Array, Array]:
        """Global document numbers and term frequencies of a term (deleted documents too)."""
        key = (fieldname, text)
        if key not in self._terms:
            self._read(fieldname, text, positions=False)
        return self._terms[key]

    def positions(self, fieldname: str, text: Any) -> tuple[Array, Array, Array]:
        """A term's global document numbers, where each one's position keys start in the third
        array (one more entry than documents: the last is the end), and the keys
        (``packed_positions``: strictly increasing over every segment, in document order)."""
        key = (fieldname, text)
        if key not in self._positions:
            self._read(fieldname, text, positions=True)
        return self._terms[key][0], *self._positions[key]

    def _read(self, fieldname: str, text: Any, positions: bool) -> None:
        """A term's arrays in every segment, from the per-process cache or decoded (and kept)."""
        ids: list[Array] = []
        offsets: list[int] = []
        weights: list[Array] = []
        starts: list[Array] = []
        found: list[Array] = []
        lacking = self.m.lacking
        for n, ((sub, offset), key) in enumerate(zip(self.m.segments, self.m.keys, strict=True)):
            if (n, fieldname, text) in lacking:
                continue
            entry = segment_entry(sub, key, fieldname, text, positions)
            if entry is None:
                if len(lacking) >= MAX_LACKING:
                    lacking.clear()
                lacking.add((n, fieldname, text))
                continue
            # Kept narrow (``segment_entry``); ids and weights widened here for matching and
            # ranking (position keys are joined as they are, ``_joined_keys``).
            ids.append(entry[0])
            offsets.append(offset)
            weights.append(entry[1])
            if positions:
                starts.append(entry[2][:-1])
                found.append(entry[3])
        none = postings_cache.EMPTY
        self._terms[(fieldname, text)] = (
            _raised(ids, offsets, np.int64) if ids else none[0],
            np.concatenate(weights, dtype=np.float64) if weights else none[1],
        )
        if positions:
            at = list(accumulate((len(part) for part in found), initial=0))
            joined_starts = _raised([*starts, np.zeros(1, dtype=np.int64)], at, np.int64)
            self._positions[(fieldname, text)] = (joined_starts, _joined_keys(found))

    def term_mask(self, fieldname: str, text: Any) -> Array:
        """A mask of the live documents holding a term."""
        mask: Array = np.zeros(self.m.size, dtype=bool)
        mask[self.term(fieldname, text)[0]] = True
        mask &= self.m.live()
        return mask

    def holding(self, fieldname: str, texts: Iterable[Any], docnums: Array) -> Array:
        """Which of ``docnums`` hold any of the terms ``texts`` in ``fieldname``."""
        held: Array = np.zeros(len(docnums), dtype=bool)
        for text in texts:
            ids = self.term(fieldname, text)[0]  # sorted: segments in order, each in order
            if len(ids):
                at = np.minimum(np.searchsorted(ids, docnums), len(ids) - 1)
                held |= ids[at] == docnums
        return held

    def mask(self, query: Query) -> Array:
        """A mask of the live documents matching ``query``."""
        if isinstance(query, Term):
            return self.term_mask(query.fieldname, query.text)
        mask: Array
        if isinstance(query, Every):
            mask = self.m.live().copy()
        elif isinstance(query, Or) and query.subqueries:
            mask = np.logical_or.reduce([self.mask(q) for q in query.subqueries])
        elif isinstance(query, And) and query.subqueries:
            mask = np.logical_and.reduce([self.mask(q) for q in query.subqueries])
        elif isinstance(query, Phrase) and self._positional(query):
            pair = pair_term(self.s.schema[query.fieldname], query.words)
            if pair is None:
                mask = self.phrase_mask(query.fieldname, query.words)
            else:  # two common words: the documents of their pair term
                mask = self.term_mask(query.fieldname, pair)
        else:
            mask = np.zeros(self.m.size, dtype=bool)
            mask[np.fromiter(self.s.docs_for_query(query), dtype=np.int64)] = True
            mask &= self.m.live()
        return mask

    def _positional(self, query: Phrase) -> bool:
        """Whether a phrase is one ``phrase_mask`` matches: its words next to each other, in
        a field that keeps positions."""
        field = self.s.schema[query.fieldname] if query.fieldname in self.s.schema else None
        # The values packed_positions reads:
        positional = field is not None and type(field.format) is PackedPositions
        return query.slop == 1 and bool(query.words) and positional

    def phrase_mask(self, fieldname: str, words: list[Any]) -> Array:
        """A mask of the live documents holding ``words`` at consecutive positions of
        ``fieldname``, as Whoosh's ``Phrase`` with its default slop matches them.

        The documents holding every word are found on the arrays first. Then the word with the
        fewest positions in them leads: each of its positions p (in candidate c) stays only
        while every other word k holds p + k - lead in c, asked of all of them at once in that
        word's position keys (``packed_positions``, ``_held``). A common word of the phrase is
        never walked position by position: only the lead's positions are.
        """
        mask: Array = np.zeros(self.m.size, dtype=bool)
        # Each word's posting of each document (-1: none), and the live documents with all;
        # a word's positions are not decoded once no document is left (a word absent here).
        postings = []
        rows: dict[Any, Array] = {}
        holding = self.m.live().copy()
        for word in words:
            postings.append(self.positions(fieldname, word))
            if word not in rows:
                ids = postings[-1][0]
                rows[word] = np.full(self.m.size, -1, dtype=np.int32)
                rows[word][ids] = np.arange(len(ids))
                holding &= rows[word] >= 0
                if not holding.any():
                    return mask
        candidates = np.flatnonzero(holding)
        spans = [
            _spans(rows[word][candidates], starts, keys)
            for word, (_, starts, keys) in zip(words, postings, strict=True)
        ]
        lead = min(range(len(words)), key=lambda k: int(spans[k].counts.sum()))
        counts = spans[lead].counts
        leading = postings[lead][2][_runs(spans[lead].first, counts)]  # its keys in the candidates
        owner: Array | None = None  # the candidate of each of ``leading`` (None: by ``counts``)
        for k, (_, _, keys) in enumerate(postings):
            if k == lead:
                continue
            shift = k - lead
            # Key x of the lead in candidate c is its position x - base(lead); word k's key
            # there is x + (base(k) - base(lead)) + shift, when that position is one word k has.
            offset = spans[k].base - spans[lead].base + shift
            lowest = spans[lead].base - shift  # from here the lead's positions have room before them
            each = partial(np.repeat, repeats=counts) if owner is None else itemgetter(owner)
            inside = leading < each(lowest + spans[k].width)
            if shift < 0:
                inside &= leading >= each(lowest)
            sought = (leading + each(offset))[inside]  # increasing, as candidates and positions are
            held = _held(sought.astype(keys.dtype), keys)
            if not len(held):
                return mask
            owner = np.searchsorted(spans[k].last, held)  # the candidate of each
            leading = held - offset[owner]  # back into the lead's keys
        mask[candidates if owner is None else candidates[owner]] = True  # None: a phrase of one word
        return mask

    def facet_counts(self, name: str, mask: Array, matched: Array | None = None) -> list[tuple[str, int]]:
        """How many matched documents have each value of facet ``name`` (``matched``: the
        numbers of the documents ``mask`` holds, when the caller has them already).

        When few documents match, only their pairs are read (each document's are together);
        otherwise every pair of the facet is tested against the mask. Both count the same."""
        facet = self.m.facet(name)
        hits = np.flatnonzero(mask) if matched is None else matched
        if len(hits) * SPARSE_FACTOR < len(facet.docs):
            first = facet.starts[hits]
            sizes = facet.starts[hits + 1] - first
            picked = facet.codes[_runs(first, sizes)]
        else:
            picked = facet.codes[mask[facet.docs]]
        counts = np.bincount(picked, minlength=len(facet.values))
        return [(facet.values[i], int(c)) for i, c in enumerate(counts) if c]

    def ranked(self, query: Query, mask: Array, limit: int) -> list[int]:
        """The ``limit`` best matched documents, best first (ties: lower number first).

        For terms, ORs and ANDs this is Whoosh's BM25F (a sum over the matching terms of
        boost × idf × saturated term frequency normalised by field length), computed for
        the matched documents only (a phrase counts as its words); anything else is ranked by
        Whoosh itself.
        """
        leaves = _leaves(query)
        if leaves is not None:  # a term met twice (a word typed twice, a phrase's words) counts once
            best: dict[tuple[str, Any], float] = {}
            for fieldname, text, boost in leaves:
                best[(fieldname, text)] = max(boost, best.get((fieldname, text), 0.0))
            leaves = [(fieldname, text, boost) for (fieldname, text), boost in best.items()]
        if leaves is None:
            return [hit.docnum for hit in self.s.search(query, limit=limit, filter=set(np.flatnonzero(mask)))]
        if not leaves:  # everything (filters only): equal scores, index order
            return [int(d) for d in np.flatnonzero(mask)[:limit]]
        scores = self.scores(leaves, mask)
        docs = np.flatnonzero(mask)
        found = scores[docs]
        if len(docs) > limit:
            keep = np.argpartition(-found, limit - 1)[:limit]
            # Whatever ties with the last kept score competes too, so ties stay in doc order.
            keep = np.flatnonzero(found >= found[keep].min())
            docs, found = docs[keep], found[keep]
        order = np.lexsort((docs, -found))[:limit]
        return [int(d) for d in docs[order]]

    def scores(self, leaves: list[tuple[str, Any, float]], mask: Array) -> Array:
        """The BM25F score of each document of ``mask`` for the weighted terms ``leaves`` (each
        counted once; other documents' are 0), as Whoosh's ``BM25F`` scores them: a sum over
        the terms a document holds of boost × idf × (K1 + 1) × tf / (tf + K1 × (1 − B + B ×
        length / average length)). A term's postings outside ``mask`` are left out first when
        they are most of them (a phrase of common words matches few of their documents).

        The idf is Whoosh's (``WeightingModel.idf``: log(documents / (documents holding the
        term + 1)) + 1, deleted documents counted in both), with the documents holding the
        term counted from the postings just read: Whoosh asks each segment's term table
        again, a few file reads per segment and term.
        """
        s = self.s
        k1, b = s.weighting.K1, s.weighting.B
        scores: Array = np.zeros(self.m.size, dtype=np.float64)
        for fieldname, text, boost in leaves:
            ids, tf = self.term(fieldname, text)
            idf = log(self.m.size / (len(ids) + 1)) + 1  # from every posting, as Whoosh counts
            inside = mask[ids]
            if np.count_nonzero(inside) * 2 < len(ids):
                ids, tf = ids[inside], tf[inside]
            if not len(ids):
                continue
            norm = (
                k1 * (1 - b) + k1 * b / (s.avg_field_length(fieldname) or 1) * self.m.lengths(fieldname)[ids]
            )
            scores[ids] += boost * idf * (k1 + 1) * tf / (tf + norm)
        return scores


def _leaves(query: Query, boost: float = 1.0) -> list[tuple[str, Any, float]] | None:
    """The weighted terms of a query made only of terms, ORs and ANDs; None otherwise."""
    if isinstance(query, Term):
        return [(query.fieldname, query.text, boost * query.boost)]
    if isinstance(query, Every):
        return []
    if isinstance(query, Phrase):  # ranked as its words
        return [(query.fieldname, word, boost * query.boost) for word in query.words]
    if type(query) in (And, Or):
        out: list[tuple[str, Any, float]] = []
        for sub in query.subqueries:
            leaves = _leaves(sub, boost * query.boost)
            if leaves is None:
                return None
            out += leaves
        return out
    return None
