"""Which documents match a query, their facet counts and the best of them, on arrays.

Whoosh's matchers hand out one posting per Python call and score every match; at 100,000
stories that was most of a search's time (docs/parts/search.md). Here each query term's postings
are read once, a block at a time, into arrays; matching is a boolean mask over document
numbers (ORs and ANDs are ``|`` and ``&``), facet counts are a ``bincount`` over per-segment
document -> value tables, and ranking is Whoosh's own BM25F computed with numpy for the
matched documents only. Counts are exact. Phrases are matched on the same arrays: the
documents holding every word of a phrase are intersected first, and only their positions
(each posting's value in a positional field) are decoded and compared; they are ranked as
their words.

Relies on whoosh-reloaded 2.7.5's W3 codec internals (pinned): a leaf matcher's decoded
block (``_data``: id deltas, term frequencies, values) and a segment's length column.
"""

from __future__ import annotations

import io
import os
import pickle
import zlib
from itertools import accumulate, chain
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3LeafMatcher
from whoosh.formats import Positions
from whoosh.matching import FilterMatcher
from whoosh.query import And, Every, Or, Phrase, Query, Term
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.system import _INT_SIZE, unpack_int
from whoosh.util.numeric import byte_to_length

from nuevonorte.search.whoosh_internals import postings_cache
from nuevonorte.search.whoosh_internals.codec import length_bytes

#: Per-segment tables (facet values, field lengths), keyed by (folder, segment id, what). A segment
#: never changes once written (a deletion only hides documents, and hidden documents never
#: reach a count), so a table stays valid until the segment is merged away; a publish only
#: adds a small segment, whose tables are cheap to build.
_segment_tables: dict[tuple[str, str, str], Any] = {}
MAX_SEGMENT_TABLES = 400
_BYTE_TO_LENGTH = np.array([byte_to_length(i) or 1 for i in range(256)], dtype=np.float64)

Array = np.ndarray
#: At most this many (segment, field, term) absences are remembered per searcher.
MAX_LACKING = 200_000


class Matcher:
    """The matching machinery of one searcher: its segments and per-searcher caches."""

    def __init__(self, s: Searcher) -> None:
        self.s = s
        self.segments: list[tuple[Searcher, int]] = s.subsearchers or [(s, 0)]
        self.size = s.doc_count_all()
        self._live: Array | None = None
        self._facets: dict[str, tuple[list[str], Array, Array]] = {}
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


def _read_facet(sub: Searcher, name: str) -> tuple[list[str], Array, Array]:
    reader = sub.reader()
    values: list[str] = []
    docs: list[int] = []
    codes: list[int] = []
    if name in sub.schema:
        for term in reader.lexicon(name):
            ids, _, _ = block_postings(reader.postings(name, term))
            codes += [len(values)] * len(ids)
            docs += ids
            values.append(term.decode("utf-8") if isinstance(term, bytes) else str(term))
    return values, np.array(docs, dtype=np.int64), np.array(codes, dtype=np.int64)


Postings = tuple[list[int], list[float], list[Any]]


def block_postings(m: Any, values: bool = False) -> Postings:
    """Every id and term frequency of a fresh leaf matcher, a decoded block at a time
    (deleted documents included), and with ``values`` each posting's value (in a positional
    field, its encoded positions; otherwise the list is empty)."""
    ids: list[int] = []
    weights: list[float] = []
    found: list[Any] = []
    if isinstance(m, FilterMatcher):  # a segment with deletions: the live mask handles them
        m = m.child
    if not isinstance(m, W3LeafMatcher):  # not expected with this codec: the slow way
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            if values:
                found.append(m.value())
            m.next()
        return ids, weights, found
    whole = _whole_postings(m, values)
    if whole is not None:
        return whole
    while m.is_active():
        if m._data is None:
            m._read_data()
        deltas, block_weights = m._data[0], m._data[1]
        n = len(deltas)
        ids += accumulate(deltas) if not m._byteids else deltas
        _add_weights(weights, block_weights, n)
        if values:
            m._read_values()
            found += m._values
        m._next_block()
    return ids, weights, found


def _add_weights(weights: list[float], block_weights: Any, count: int) -> None:
    """A block's weights, as W3 minifies them (None: all 1.0; a float: all the same)."""
    if block_weights is None:
        weights += [1.0] * count
    elif isinstance(block_weights, float):
        weights += [block_weights] * count
    else:
        weights += block_weights


def _whole_postings(m: W3LeafMatcher, values: bool) -> Postings | None:
    """All of a term's postings from one read of its byte range, blocks parsed in memory.

    Without mmap, stepping through blocks costs about twenty small file reads per block (its
    length, its pickled header, its data); one read of the term's whole extent is far cheaper.
    The layout is the W3 codec's: a 4-byte magic, then per block a signed length (negative
    for the last block), a pickled header (count, max id, max weight, compression, lengths)
    and the (optionally zlib-compressed) pickled data (id deltas, weights, values). None when
    the bytes are not laid out so (the caller then reads block by block), or when values are
    asked of a field whose values have a fixed size (W3 joins those into one string).
    """
    length = getattr(m, "_length", None)
    if isinstance(length, tuple):  # the codec stores the extent's length as a 1-tuple
        length = length[0] if len(length) == 1 else None
    if not isinstance(length, int) or length <= 4 or m._byteids:
        return None
    if values and not (m._fixedsize is None or m._fixedsize < 0):
        return None
    buf = m._postfile.get(m._startoffset, length)
    if buf[:4] != WHOOSH3_HEADER_MAGIC:
        return None
    view = memoryview(buf)
    stream = io.BytesIO(buf)
    ids: list[int] = []
    weights: list[float] = []
    found: list[Any] = []
    pos = 4
    while pos + _INT_SIZE <= len(buf):
        size = unpack_int(buf[pos : pos + _INT_SIZE])[0]
        end = pos + _INT_SIZE + abs(size)
        stream.seek(pos + _INT_SIZE)
        count, _maxid, _maxweight, compression, _minlen, _maxlen = pickle.load(stream)  # noqa: S301 (our own index files, as Whoosh reads them)
        blob = view[stream.tell() : end]
        data = zlib.decompress(blob) if compression else blob
        block = pickle.loads(data)  # noqa: S301 (as above)
        deltas = block[0]
        if len(deltas) != count:
            return None
        ids += accumulate(deltas)
        _add_weights(weights, block[1], count)
        if values:
            found += block[2]
        if size < 0:  # the last block
            return ids, weights, found
        pos = end
    return None


#: Positions are below this in any field (Whoosh packs them in 4 bytes); a phrase has at
#: most this many words (``parse.MAX_WORDS`` is far below): (document, position) pairs as one number.
_POSITION_STRIDE = 1 << 33
MAX_PHRASE_WORDS = 1 << 16
#: The pickle protocol-2 opening of a list (PROTO 2, EMPTY_LIST, BINPUT 0), and BININT1.
_FIXED_HEAD = b"\x80\x02]q\x00"
_BININT1 = ord("K")
#: Bytes after each integer opcode (BININT1, BININT2, BININT); 0 for any other byte.
_WIDTHS = np.zeros(256, dtype=np.int64)
_WIDTHS[[ord("K"), ord("M"), ord("J")]] = [1, 2, 4]


def positions_of(values: list[bytes], decode: Any) -> tuple[Array, Array]:
    """The positions of a term's postings, from their encoded values: where each posting's
    positions start (and, last, where they end), and all of them (int32), in order.

    Whoosh's ``Positions`` format writes a value as the count (4 bytes, big-endian), then the
    deltas between positions (the first from 0) as a protocol-2 pickle of a list: PROTO 2,
    EMPTY_LIST, BINPUT 0, a MARK when there are several, one opcode per delta, APPENDS
    (APPEND for one), STOP. A delta under 256 is BININT1 and one byte; a larger one BININT2
    (two bytes) or BININT (four). When every delta but the first is under 256 (nearly always:
    the first is where the word first appears, the others the gaps to its next uses) the
    layout is fixed, and the deltas are read straight from the bytes with numpy; any other
    value is decoded by ``decode``, Whoosh's own.
    """
    if not values:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)
    buf = np.frombuffer(b"".join(values) + bytes(_INT_SIZE + 8), dtype=np.uint8)  # padded: reads stay inside
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    begins = np.cumsum(lengths) - lengths
    counts = np.zeros(len(values), dtype=np.int64)
    for i in range(_INT_SIZE):  # the big-endian count
        counts = counts * 256 + buf[begins + i]
    several = counts > 1
    opcode = begins + _INT_SIZE + 5 + several  # the first delta's opcode
    width = _WIDTHS[buf[opcode]]  # 0: not an integer opcode
    first = buf[opcode + 1].astype(np.int64)
    first += np.where(width >= 2, buf[opcode + 2].astype(np.int64) << 8, 0)
    first += np.where(
        width == 4, (buf[opcode + 3].astype(np.int64) << 16) + (buf[opcode + 4].astype(np.int64) << 24), 0
    )
    simple = (
        (counts > 0)
        & (width > 0)
        & (lengths == _INT_SIZE + 6 + several + 2 * counts + width)
        & _bytes_at(buf, begins + _INT_SIZE, _FIXED_HEAD)
    )
    # The other deltas of a simple value: each a BININT1 opcode and its byte, after the first.
    rest = np.where(simple, counts - 1, 0)
    at = np.repeat(opcode + 2 + width, rest) + 2 * _ranks(rest)
    opcodes_ok = buf[at - 1] == _BININT1
    if not opcodes_ok.all():  # a later delta of 256 or more: that value is decoded by Whoosh
        simple[np.repeat(np.arange(len(values)), rest)[~opcodes_ok]] = False
        rest = np.where(simple, counts - 1, 0)
        at = np.repeat(opcode + 2 + width, rest) + 2 * _ranks(rest)
    # The others (a few in a hundred): their deltas unpickled one by one, placed all at once.
    others = np.flatnonzero(~simple)
    unpickled = [_deltas(values[i], decode) for i in others.tolist()]
    sizes = np.where(simple, counts, 0)
    sizes[others] = np.fromiter(map(len, unpickled), dtype=np.int64, count=len(unpickled))
    offsets = np.cumsum(sizes) - sizes
    deltas = np.zeros(int(sizes.sum()), dtype=np.int64)
    deltas[offsets[simple]] = first[simple]
    deltas[np.repeat(offsets + 1, rest) + _ranks(rest)] = buf[at]
    other_sizes = sizes[others]
    deltas[np.repeat(offsets[others], other_sizes) + _ranks(other_sizes)] = np.fromiter(
        chain.from_iterable(unpickled), dtype=np.int64, count=int(other_sizes.sum())
    )
    # A running sum that starts again at every posting.
    running = np.cumsum(deltas)
    positions = running - np.repeat(np.concatenate(([0], running))[offsets], sizes)
    return np.concatenate(([0], np.cumsum(sizes))), positions.astype(np.int32)


def _deltas(value: bytes, decode: Any) -> list[int]:
    """The position deltas of one encoded value: its pickled list, or, for a value not laid out
    as ``Positions.encode`` writes it, Whoosh's own decoding turned back into deltas."""
    if value[_INT_SIZE : _INT_SIZE + 2] == _FIXED_HEAD[:2] and value.endswith(b"."):
        found = pickle.loads(value[_INT_SIZE:])  # noqa: S301 (our own index files, as Whoosh reads them)
        if isinstance(found, list):
            return found
    positions = decode(value)
    return [b - a for a, b in zip([0, *positions], positions, strict=False)]


def _ranks(counts: Array) -> Array:
    """0, 1, …, counts[0] - 1, then 0, 1, …, counts[1] - 1, and so on."""
    ranks: Array = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(counts) - counts, counts
    )
    return ranks


def _bytes_at(buf: Array, where: Array, expected: bytes) -> Array:
    """Whether ``expected`` is found at each offset ``where`` of ``buf``."""
    ok = np.ones(len(where), dtype=bool)
    for i, byte in enumerate(expected):
        ok &= buf[where + i] == byte
    return ok


def segment_entry(
    sub: Searcher, key: postings_cache.SegmentKey | None, fieldname: str, text: Any, positions: bool
) -> postings_cache.Entry | None:
    """A term's arrays in one segment (``key``: its name in the postings cache, None: not
    cached): (document numbers, frequencies), and with ``positions`` (starts, positions) too;
    from the cache, or decoded and kept there. None when the segment lacks the term (nothing
    is kept then, so no word lingers)."""
    cached = (key, fieldname, text) if key is not None else None
    entry = postings_cache.get(cached) if cached is not None else None
    if entry is not None and (not positions or len(entry) == 4):
        return entry
    try:  # one look-up of the term (a test of ``in`` first would be a second)
        postings = sub.reader().postings(fieldname, text)
    except TermNotFound:
        return None
    seg_ids, seg_weights, seg_values = block_postings(postings, positions)
    entry = (np.array(seg_ids, dtype=np.int32), _narrow_weights(np.array(seg_weights, dtype=np.float64)))
    if positions:
        decode = sub.schema[fieldname].format.decode_positions
        starts, found = positions_of(seg_values, decode)
        narrow = np.uint16 if not len(found) or int(found.max()) <= np.iinfo(np.uint16).max else np.int32
        entry = (*entry, starts.astype(np.int32), found.astype(narrow))
    if cached is not None:
        postings_cache.put(cached, entry)
    return entry


def _narrow_weights(weights: Array) -> Array:
    """Term frequencies as float32 when that keeps every one exactly (they are whole numbers in
    the archive's fields): a kept entry takes half the memory, and ranking reads the same
    values once ``Search._read`` widens them again."""
    narrow = weights.astype(np.float32)
    return narrow if np.array_equal(narrow, weights) else weights


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
        """A term's global document numbers, where each one's positions start in the third
        array (one more entry than documents: the last is the end), and the positions."""
        key = (fieldname, text)
        if key not in self._positions:
            self._read(fieldname, text, positions=True)
        return self._terms[key][0], *self._positions[key]

    def _read(self, fieldname: str, text: Any, positions: bool) -> None:
        """A term's arrays in every segment, from the per-process cache or decoded (and kept)."""
        ids: list[Array] = []
        weights: list[Array] = []
        starts: list[Array] = []
        found: list[Array] = []
        at = 0
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
            # Kept narrow (``segment_entry``), widened here for matching and ranking.
            ids.append(np.add(entry[0], offset, dtype=np.int64))
            weights.append(entry[1])
            if positions:
                starts.append(np.add(entry[2][:-1], at, dtype=np.int64))
                found.append(entry[3])
                at += len(entry[3])
        none = postings_cache.EMPTY
        self._terms[(fieldname, text)] = (
            np.concatenate(ids) if ids else none[0],
            np.concatenate(weights, dtype=np.float64) if weights else none[1],
        )
        if positions:
            starts.append(np.array([at], dtype=np.int64))
            self._positions[(fieldname, text)] = (
                np.concatenate(starts),
                np.concatenate(found, dtype=np.int32) if found else np.zeros(0, dtype=np.int32),
            )

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
        elif isinstance(query, Phrase) and self._positional(query):
            mask = self.phrase_mask(query.fieldname, query.words)
        else:
            mask = np.zeros(self.m.size, dtype=bool)
            mask[np.fromiter(self.s.docs_for_query(query), dtype=np.int64)] = True
            mask &= self.m.live()
        return mask

    def _positional(self, query: Phrase) -> bool:
        """Whether a phrase is one ``phrase_mask`` matches: its words next to each other, in
        a field that keeps positions."""
        field = self.s.schema[query.fieldname] if query.fieldname in self.s.schema else None
        positional = field is not None and type(field.format) is Positions  # the layout positions_of reads
        return query.slop == 1 and bool(query.words) and positional

    def phrase_mask(self, fieldname: str, words: list[Any]) -> Array:
        """A mask of the live documents holding ``words`` at consecutive positions of
        ``fieldname``, as Whoosh's ``Phrase`` with its default slop matches them.

        The documents holding every word are found on the arrays, then their positions (read
        as arrays too, ``positions_of``): a document matches when some position p of the
        first word has each following word k at p + k. Each word's (document, position - k)
        pairs are single numbers, in order; the phrase's are in every word's.
        """
        mask: Array = np.zeros(self.m.size, dtype=bool)
        postings = [self.positions(fieldname, word) for word in words]
        candidates = postings[0][0]
        for ids, _, _ in postings[1:]:
            candidates = np.intersect1d(candidates, ids, assume_unique=True)
        candidates = candidates[self.m.live()[candidates]]
        met: Array | None = None
        for k, (ids, starts, positions) in enumerate(postings):
            if not len(candidates):
                return mask
            rows = np.searchsorted(ids, candidates)
            first, counts = starts[rows], starts[rows + 1] - starts[rows]
            # Every position of every candidate: its slice of ``positions``, one after another.
            at = positions[np.repeat(first, counts) + _ranks(counts)]
            owner = np.repeat(np.arange(len(candidates), dtype=np.int64), counts)
            pairs = owner * _POSITION_STRIDE + (at.astype(np.int64) - k + MAX_PHRASE_WORDS)
            if met is None:
                met = pairs
            else:
                found = np.searchsorted(pairs, met)
                met = met[(found < len(pairs)) & (pairs[np.minimum(found, len(pairs) - 1)] == met)]
            if not len(met):
                return mask
        assert met is not None
        mask[candidates[met // _POSITION_STRIDE]] = True
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
