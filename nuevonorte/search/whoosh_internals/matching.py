"""Which documents match a query, their facet counts and the best of them, on arrays.

Whoosh's matchers hand out one posting per Python call and score every match; at 100,000
stories that was most of a search's time (docs/parts/search.md). Here each query term's postings
are read once, a block at a time, into arrays; matching is a boolean mask over document
numbers (ORs and ANDs are ``|`` and ``&``), facet counts are a ``bincount`` over per-segment
document -> value tables, and ranking is Whoosh's own BM25F computed with numpy for the
matched documents only. Counts are exact. Phrases are matched by Whoosh (in the long
fields' positional twins) and ranked as their words.

Relies on whoosh-reloaded 2.7.5's W3 codec internals (pinned): a leaf matcher's decoded
block (``_data``: id deltas, term frequencies) and a segment's length column.
"""

from __future__ import annotations

import io
import pickle
import zlib
from itertools import accumulate
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.query import And, Every, Or, Phrase, Query, Term
from whoosh.searching import Searcher
from whoosh.system import _INT_SIZE, unpack_int
from whoosh.util.numeric import byte_to_length

from nuevonorte.search.whoosh_internals.codec import length_bytes

#: Per-segment tables (facet values, field lengths), keyed by (folder, segment id, what). A segment
#: never changes once written (a deletion only hides documents, and hidden documents never
#: reach a count), so a table stays valid until the segment is merged away; a publish only
#: adds a small segment, whose tables are cheap to build.
_segment_tables: dict[tuple[str, str, str], Any] = {}
MAX_SEGMENT_TABLES = 400
_BYTE_TO_LENGTH = np.array([byte_to_length(i) or 1 for i in range(256)], dtype=np.float64)

Array = np.ndarray


class Matcher:
    """The matching machinery of one searcher: its segments and per-searcher caches."""

    def __init__(self, s: Searcher) -> None:
        self.s = s
        self.segments: list[tuple[Searcher, int]] = s.subsearchers or [(s, 0)]
        self.size = s.doc_count_all()
        self._live: Array | None = None
        self._facets: dict[str, tuple[list[str], Array, Array]] = {}
        self._lengths: dict[str, Array] = {}

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

    def facet(self, name: str) -> tuple[list[str], Array, Array]:
        """A facet's values and its (document, value index) pairs for the whole index."""
        if name not in self._facets:
            values: list[str] = []
            index: dict[str, int] = {}
            docs, codes = [], []
            for sub, offset in self.segments:
                seg_values, seg_docs, seg_codes = _segment_table(sub, name, "facet", _read_facet)
                remap = np.array([index.setdefault(v, len(index)) for v in seg_values], dtype=np.int64)
                docs.append(seg_docs + offset)
                codes.append(remap[seg_codes] if len(seg_codes) else seg_codes)
            values = list(index)
            empty = np.zeros(0, dtype=np.int64)
            self._facets[name] = (
                values,
                np.concatenate(docs) if docs else empty,
                np.concatenate(codes) if codes else empty,
            )
        return self._facets[name]


def _segment_table(sub: Searcher, name: str, what: str, build: Any) -> Any:
    reader = sub.reader()
    segment = reader.segment() if hasattr(reader, "segment") else None
    key = (_folder(reader), segment.segment_id(), f"{what}:{name}") if segment is not None else None
    table = _segment_tables.get(key) if key else None
    if table is None:
        table = build(sub, name)
        if key:
            if len(_segment_tables) >= MAX_SEGMENT_TABLES:
                _segment_tables.clear()
            _segment_tables[key] = table
    return table


def _folder(reader: Any) -> str:
    """The folder of a segment's files: segment ids are random names, unique within one index
    but not across indexes (Whoosh draws them from ``random``, which anything may seed), so
    the cache key needs both."""
    storage = getattr(reader, "_storage", None)
    storage = getattr(storage, "b", storage)  # a compound segment: its files over the folder
    return str(getattr(storage, "folder", id(reader)))


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


def _read_facet(sub: Searcher, name: str) -> tuple[list[str], Array, Array]:
    reader = sub.reader()
    values: list[str] = []
    docs: list[int] = []
    codes: list[int] = []
    if name in sub.schema:
        for term in reader.lexicon(name):
            ids, _ = block_postings(reader.postings(name, term))
            codes += [len(values)] * len(ids)
            docs += ids
            values.append(term.decode("utf-8") if isinstance(term, bytes) else str(term))
    return values, np.array(docs, dtype=np.int64), np.array(codes, dtype=np.int64)


def block_postings(m: Any) -> tuple[list[int], list[float]]:
    """Every id and term frequency of a fresh leaf matcher, a decoded block at a time
    (deleted documents included)."""
    ids: list[int] = []
    weights: list[float] = []
    if isinstance(m, FilterMatcher):  # a segment with deletions: the live mask handles them
        m = m.child
    if not isinstance(m, W3LeafMatcher):  # not expected with this codec: the slow way
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
        return ids, weights
    whole = _whole_postings(m)
    if whole is not None:
        return whole
    while m.is_active():
        if m._data is None:
            m._read_data()
        deltas, block_weights = m._data[0], m._data[1]
        n = len(deltas)
        ids += accumulate(deltas) if not m._byteids else deltas
        if block_weights is None:
            weights += [1.0] * n
        elif isinstance(block_weights, float):
            weights += [block_weights] * n
        else:
            weights += block_weights
        m._next_block()
    return ids, weights


def _whole_postings(m: W3LeafMatcher) -> tuple[list[int], list[float]] | None:
    """All of a term's postings from one read of its byte range, blocks parsed in memory.

    Without mmap, stepping through blocks costs about twenty small file reads per block (its
    length, its pickled header, its data); one read of the term's whole extent is far cheaper.
    The layout is the W3 codec's: a 4-byte magic, then per block a signed length (negative
    for the last block), a pickled header (count, max id, max weight, compression, lengths)
    and the (optionally zlib-compressed) pickled data (id deltas, weights, values). None when
    the bytes are not laid out so (the caller then reads block by block).
    """
    length = getattr(m, "_length", None)
    if isinstance(length, tuple):  # the codec stores the extent's length as a 1-tuple
        length = length[0] if len(length) == 1 else None
    if not isinstance(length, int) or length <= 4 or m._byteids:
        return None
    buf = m._postfile.get(m._startoffset, length)
    if buf[:4] != WHOOSH3_HEADER_MAGIC:
        return None
    view = memoryview(buf)
    stream = io.BytesIO(buf)
    ids: list[int] = []
    weights: list[float] = []
    pos = 4
    while pos + _INT_SIZE <= len(buf):
        size = unpack_int(buf[pos : pos + _INT_SIZE])[0]
        end = pos + _INT_SIZE + abs(size)
        stream.seek(pos + _INT_SIZE)
        count, _maxid, _maxweight, compression, _minlen, _maxlen = pickle.load(stream)  # noqa: S301 (our own index files, as Whoosh reads them)
        blob = view[stream.tell() : end]
        data = zlib.decompress(blob) if compression else blob
        deltas, block_weights = pickle.loads(data)[:2]  # noqa: S301 (as above)
        if len(deltas) != count:
            return None
        ids += accumulate(deltas)
        if block_weights is None:
            weights += [1.0] * count
        elif isinstance(block_weights, float):
            weights += [block_weights] * count
        else:
            weights += block_weights
        if size < 0:  # the last block
            return ids, weights
        pos = end
    return None


class Search:
    """One query over a searcher: each term's postings read once, for matching and ranking."""

    def __init__(self, s: Searcher) -> None:
        self.s = s
        self.m = Matcher.of(s)
        self._terms: dict[tuple[str, Any], tuple[Array, Array]] = {}

    def term(self, fieldname: str, text: Any) -> tuple[Array, Array]:
        """Global document numbers and term frequencies of a term (deleted documents too)."""
        key = (fieldname, text)
        if key not in self._terms:
            ids: list[int] = []
            weights: list[float] = []
            for sub, offset in self.m.segments:
                reader = sub.reader()
                if key in reader:
                    seg_ids, seg_weights = block_postings(reader.postings(fieldname, text))
                    ids += [d + offset for d in seg_ids] if offset else seg_ids
                    weights += seg_weights
            self._terms[key] = (np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64))
        return self._terms[key]

    def term_mask(self, fieldname: str, text: Any) -> Array:
        """A mask of the live documents holding a term."""
        mask: Array = np.zeros(self.m.size, dtype=bool)
        mask[self.term(fieldname, text)[0]] = True
        mask &= self.m.live()
        return mask

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
        else:
            mask = np.zeros(self.m.size, dtype=bool)
            mask[np.fromiter(self.s.docs_for_query(query), dtype=np.int64)] = True
            mask &= self.m.live()
        return mask

    def facet_counts(self, name: str, mask: Array) -> list[tuple[str, int]]:
        """How many matched documents have each value of facet ``name``."""
        values, docs, codes = self.m.facet(name)
        counts = np.bincount(codes[mask[docs]], minlength=len(values))
        return [(values[i], int(c)) for i, c in enumerate(counts) if c]

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
        s = self.s
        k1, b = s.weighting.K1, s.weighting.B
        scores = np.zeros(self.m.size, dtype=np.float64)
        for fieldname, text, boost in leaves:
            ids, tf = self.term(fieldname, text)
            if not len(ids):
                continue
            norm = (
                k1 * (1 - b) + k1 * b / (s.avg_field_length(fieldname) or 1) * self.m.lengths(fieldname)[ids]
            )
            scores[ids] += boost * s.idf(fieldname, text) * (k1 + 1) * tf / (tf + norm)
        docs = np.flatnonzero(mask)
        found = scores[docs]
        if len(docs) > limit:
            keep = np.argpartition(-found, limit - 1)[:limit]
            # Whatever ties with the last kept score competes too, so ties stay in doc order.
            keep = np.flatnonzero(found >= found[keep].min())
            docs, found = docs[keep], found[keep]
        order = np.lexsort((docs, -found))[:limit]
        return [int(d) for d in docs[order]]


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
