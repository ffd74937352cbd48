"""Purging deleted documents from one segment at a cost that does not grow with the archive.

Whoosh only *marks* a deleted (or replaced) document; its words stay in the segment's files
until the segment is rewritten, and Whoosh's own rewrite (a merge) re-sorts every posting of
the segment in Python: about 10 ms per document on the two-core machine of
``benchmarks/withdraw.py``, so a minute for a segment of 5,000 stories. ``scrub`` writes a
copy of the segment without what the deleted documents held, reusing every byte they did not
touch:

- documents keep their numbers: a deleted document becomes an empty *hole* (no stored fields,
  length 0) and stays marked deleted, so no other posting changes;
- the postings file is copied as it is; each posting list holding a deleted document is
  written again at the end without it, and its old bytes are overwritten with zeros;
- the term table is written again, without every term that only deleted documents had — the
  words themselves leave the files;
- stored fields and length columns are written again, the holes empty.

The copy gets a new segment id and records which deleted documents it holds only as holes
(``SCRUBBED``); ``pending(segment)`` is what is left to purge. The work is done in a private
folder without the index lock; ``segments`` swaps the copy in.

Relies on the layout of whoosh-reloaded 2.7.5's W3 codec (pinned, as ``codec`` and
``matching`` do): the term table is an ``OrderedHashWriter`` keyed by field number and term
bytes; a posting list is a 4-byte tag then blocks, each an int length (negative for the
last), a pickled info tuple and the compressed (delta ids, weights, values), packed as arrays
(``codec.block_data``).
"""

from __future__ import annotations

import pickle
import struct
from array import array
from bisect import bisect_left
from contextlib import closing
from itertools import accumulate
from pathlib import Path
from typing import Any

from whoosh.codec.whoosh3 import (
    _INT_SIZE,
    LENGTHS_COLUMN,
    STORED_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3Segment,
    W3TermInfo,
    _lenfield,
)
from whoosh.filedb import filetables
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.util.numlists import GrowableArray

from nuevonorte.search.whoosh_internals.codec import (
    ArchiveCodec,
    block_data,
    block_deltas,
    block_tuple,
    extent_length,
    posting_blocks,
)

#: The attribute of a segment (pickled in the table of contents with it) naming the deleted
#: documents it holds only as empty holes.
SCRUBBED = "nn_scrubbed"
#: The attribute recording since when (Unix time, to the minute) a segment holds a deleted
#: document not yet purged.
PENDING_SINCE = "nn_pending_since"
COMPRESSION = 3
#: A term table record starts with its key's and value's lengths; a key starts with the
#: field's number; a term info holds its first and last document numbers at byte 15.
_LENGTHS = struct.Struct("!ii")
_FIELD = struct.Struct("!H")
_IDS = struct.Struct("!II")
_IDS_AT = struct.calcsize("!BfIBBf")


def pending(segment: Any) -> set[int]:
    """The deleted documents of ``segment`` whose words are still in its files."""
    deleted = set(segment.deleted_docs()) if segment.has_deletions() else set()
    return deleted - set(getattr(segment, SCRUBBED, ()) or ())


def scrub(storage: FileStorage, schema: Any, source: Any, work: Path) -> W3Segment:
    """Write into the folder ``work`` a copy of ``source`` (a segment of the index in
    ``storage``) holding nothing of its deleted documents; returns the copy's segment.

    The copy is one compound file, ``<index>_<new id>.seg``, to be moved beside the others.
    """
    gone = frozenset(source.deleted_docs()) if source.has_deletions() else frozenset()
    out = FileStorage(str(work)).create()
    segment = W3Segment(ArchiveCodec(), source.indexname, doccount=source.doc_count_all())
    with closing(SegmentReader(storage, schema, source)) as reader:
        lengths = _length_tables(reader, schema)
        _copy_documents(reader, schema, out, segment, gone, lengths)
        _copy_terms(reader, out, segment, gone, lengths)
    segment._deleted = set(gone) if gone else None
    setattr(segment, SCRUBBED, frozenset(gone))
    setattr(segment, PENDING_SINCE, None)
    segment.create_compound_file(out)
    return segment


# --- per-document values ----------------------------------------------------------------


def _length_tables(reader: SegmentReader, schema: Any) -> dict[str, bytes]:
    """Each scorable field's length byte for every document of the segment."""
    perdoc = reader._perdoc
    tables = {}
    for name in schema.scorable_names():
        column = perdoc._cached_reader(_lenfield(name), LENGTHS_COLUMN)
        if column is not None:
            raw = bytes(column._dbfile.get(column._basepos, column._count))
            tables[name] = raw.ljust(reader.doc_count_all(), b"\0")  # a column stops at its last value
    return tables


def _copy_documents(
    reader: SegmentReader,
    schema: Any,
    out: FileStorage,
    segment: W3Segment,
    gone: frozenset[int],
    lengths: dict[str, bytes],
) -> None:
    """Stored fields and length columns of every document, the deleted ones left empty.

    The columns are written whole (documents keep their numbers); the field length totals
    (used to score) lose the deleted documents' lengths."""
    perdoc = reader._perdoc
    stored = perdoc._cached_reader("_stored", STORED_COLUMN)
    count = segment.doc_count_all()
    files = []
    f = out.create_file(_column(segment, "_stored"))
    files.append(f)
    stored_writer = STORED_COLUMN.writer(f)
    for docnum in range(count):
        if docnum not in gone and stored is not None:
            value = stored[docnum]
            if value:
                stored_writer.add(docnum, value)
    totals = dict(getattr(reader.segment(), "_fieldlengths", {}) or {})
    for name, table in lengths.items():
        kept = bytearray(table)
        for docnum in gone:
            if kept[docnum]:
                totals[name] = max(0, totals.get(name, 0) - byte_to_length(kept[docnum]))
                kept[docnum] = 0
        f = out.create_file(_column(segment, _lenfield(name)))
        files.append(f)
        writer = LENGTHS_COLUMN.writer(f)
        for docnum, byte in enumerate(kept):
            if byte:
                writer.add(docnum, byte)
        writer.finish(count)
    stored_writer.finish(count)
    for f in files:
        f.close()
    for name in schema.names():
        if schema[name].column_type and perdoc.has_column(name):
            raise ValueError(f"field {name!r} has a column of values, which scrub does not copy")
    segment._fieldlengths = totals


def _column(segment: W3Segment, fieldname: str) -> str:
    return str(W3Codec.column_filename(segment, fieldname))


# --- terms and postings ---------------------------------------------------------------------


def _copy_terms(
    reader: SegmentReader,
    out: FileStorage,
    segment: W3Segment,
    gone: frozenset[int],
    lengths: dict[str, bytes],
) -> None:
    """The term table without the deleted documents' own terms, and the postings file with
    every list that held a deleted document written again (its old bytes zeroed).

    The term table is walked as raw records (key length, value length, key, value); only a
    term whose first and last document numbers surround a deleted one is decoded."""
    terms = reader._terms
    source = terms._tindex
    fieldnames = terms._fieldunmap
    postings = bytearray(_whole(terms._postfile))
    records = source.dbfile.get(source.startofdata, source.endofdata - source.startofdata)
    base = source.startofdata
    ordered = sorted(gone)
    kept: list[tuple[int, int]] = []  # (start, end) of each record kept, in the old table
    patched: dict[int, bytes] = {}  # start of a record -> its new value
    rewritten: list[tuple[int, int, bytes]] = []  # posting lists: (old offset, old length, new)
    end = len(postings)
    pos = 0
    while pos < len(records):
        keylen, datalen = _LENGTHS.unpack_from(records, pos)
        datapos = pos + _LENGTHS.size + keylen
        record_end = datapos + datalen
        minid, maxid = _IDS.unpack_from(records, datapos + _IDS_AT)
        i = bisect_left(ordered, minid)
        if i < len(ordered) and ordered[i] <= maxid and _holds(postings, records, datapos, datalen, ordered):
            info = W3TermInfo.from_bytes(records[datapos:record_end])
            field = fieldnames[_FIELD.unpack_from(records, pos + _LENGTHS.size)[0]]
            changed = _without(postings, info, gone, lengths.get(field))
            if changed is _EMPTY:  # no live document has this term: it leaves the table
                rewritten.append((info._offset, _extent_length(info), b""))
                pos = record_end
                continue
            if changed is not None:
                new_info, data = changed
                rewritten.append((info._offset, _extent_length(info), data))
                new_info.set_extent(end, len(data))
                end += len(data)
                value = new_info.to_bytes()
                if len(value) != datalen:
                    raise ValueError("a term info changed size")
                patched[pos] = value
        kept.append((pos, record_end))
        pos = record_end
    _write_table(out, segment, terms, records, base, kept, patched)
    for offset, length, _ in rewritten:
        postings[offset : offset + length] = bytes(length)
    with closing(segment.create_file(out, W3Codec.POSTS_EXT)) as f:
        f.write(bytes(postings))
        for _, _, data in rewritten:
            f.write(data)


def _write_table(
    out: FileStorage,
    segment: W3Segment,
    terms: Any,
    records: bytes,
    base: int,
    kept: list[tuple[int, int]],
    patched: dict[int, bytes],
) -> None:
    """Write the kept records as an ordered hash table, as ``OrderedHashWriter.add`` would
    have: the same header, records, hash tables, directory, extras and key index."""
    table = filetables.OrderedHashWriter(segment.create_file(out, W3Codec.TERMS_EXT))
    table.extras["fieldmap"] = dict(terms._fieldmap)
    blob = bytearray()
    positions = []
    hashfn = table.hashfn
    buckets = table.buckets
    for start, stop in kept:
        new_pos = base + len(blob)
        positions.append(new_pos)
        keylen, datalen = _LENGTHS.unpack_from(records, start)
        key = records[start + _LENGTHS.size : start + _LENGTHS.size + keylen]
        value = patched.get(start)
        if value is None:
            blob += records[start:stop]
        else:
            blob += records[start : stop - datalen]
            blob += value
        h = hashfn(key)
        buckets[h & 255].append((h, new_pos))
    table.dbfile.write(bytes(blob))
    index = GrowableArray("H")
    if positions:
        index._retype(positions[-1])
        index.array.extend(positions)
    table.index = index
    table.close()


_EMPTY: Any = object()
_EXTENT = struct.Struct("!qi")


def _holds(postings: bytearray, records: bytes, datapos: int, datalen: int, ordered: list[int]) -> bool:
    """Whether the posting list of the term info at ``datapos`` holds a document of
    ``ordered`` (sorted): only the blocks whose range of numbers could hold one are read."""
    if datalen != _IDS_AT + _IDS.size + _EXTENT.size or records[datapos] != 0:
        return True  # not the usual layout (inlined postings): let the full path look
    offset, length = _EXTENT.unpack_from(records, datapos + _IDS_AT + _IDS.size)
    previous_last = -1
    k = 0
    for (count, last, _w, comp, _mn, _mx), data_start, block_end in posting_blocks(postings, offset, length):
        while k < len(ordered) and ordered[k] <= previous_last:
            k += 1
        if k == len(ordered):
            return False
        if ordered[k] <= last:
            ids = set(_ids(bytes(postings[data_start:block_end]), comp, count))
            if any(d in ids for d in ordered[k:] if d <= last):
                return True
        previous_last = last
    return False


def _ids(data: bytes, comp: int, count: int) -> list[int]:
    """A block's document numbers."""
    return list(accumulate(block_deltas(data, comp, count)))


def _extent_length(info: W3TermInfo) -> int:
    """The byte length of a posting list."""
    length = extent_length(info._length)
    if length is None:
        raise ValueError("a posting list without a byte length")
    return length


def _whole(structfile: Any) -> bytes:
    """Every byte of a (sub)file of the segment."""
    structfile.seek(0, 2)
    size = structfile.tell()
    return bytes(structfile.get(0, size))


def _without(
    postings: bytearray, info: W3TermInfo, gone: frozenset[int], lengths: bytes | None
) -> tuple[W3TermInfo, bytes] | Any | None:
    """The posting list of ``info`` without the documents of ``gone``: None if it held none
    of them, ``_EMPTY`` if it held nothing else, else its new term info and bytes."""
    if info.is_inlined():
        raise ValueError("inlined postings: the codec's inline limit changed")
    blocks = list(posting_blocks(postings, info._offset, _extent_length(info)))
    kept: list[tuple[tuple[Any, ...], bytes]] = []  # (info, data) of each block kept
    removed = 0
    removed_weight = 0.0
    previous_last = -1
    for block_info, data_start, block_end in blocks:
        count, last, _maxweight, comp, _mn, _mx = block_info
        data = bytes(postings[data_start:block_end])
        if any(previous_last < d <= last for d in gone):
            ids, weights, values, form = _decode(data, comp, count)
            keep = [i for i, d in enumerate(ids) if d not in gone]
            if len(keep) < count:
                removed += count - len(keep)
                removed_weight += sum(weights[i] for i in range(count) if ids[i] in gone)
                if keep:
                    kept.append(
                        _encode(
                            [ids[i] for i in keep],
                            [weights[i] for i in keep],
                            None if values is None else [values[i] for i in keep],
                            form,
                            lengths,
                        )
                    )
                previous_last = last
                continue
        kept.append((block_info, data))
        previous_last = last
    if not removed:
        return None
    if not kept:
        return _EMPTY
    new = W3TermInfo()
    new._weight = max(0.0, info._weight - removed_weight)
    new._df = info._df - removed
    new._minid = _first_id(kept[0])
    new._maxid = kept[-1][0][1]
    new._maxweight = max(b[0][2] for b in kept)
    mins = [b[0][4] for b in kept if b[0][4]]
    new._minlength = byte_to_length(min(mins)) if mins else None
    new._maxlength = byte_to_length(max(b[0][5] for b in kept))
    out = bytearray(WHOOSH3_HEADER_MAGIC)
    for n, (block_info, data) in enumerate(kept):
        infobytes = pickle.dumps(block_info, 2)
        size = len(infobytes) + len(data)
        out += (-size if n == len(kept) - 1 else size).to_bytes(_INT_SIZE, "big", signed=True)
        out += infobytes
        out += data
    return new, bytes(out)


def _first_id(block: tuple[tuple[Any, ...], bytes]) -> int:
    info, data = block
    return _decode(data, info[3], info[0])[0][0]


def _decode(data: bytes, comp: int, count: int) -> tuple[list[int], list[float], list[Any] | None, str]:
    """A block's document numbers, weights, values (None for a format without values) and
    how the values were kept: "none", "joined" (fixed-size values as one string), "tuple"."""
    deltas, weights, values = block_tuple(data, comp, count)
    ids = list(accumulate(deltas))
    if weights is None:  # a block of W3's own: all 1.0, or all the same
        weights = [1.0] * count
    elif isinstance(weights, float):
        weights = [weights] * count
    if values is None:
        return ids, list(weights), None, "none"
    if isinstance(values, bytes):
        size = len(values) // count
        return ids, list(weights), [values[i : i + size] for i in range(0, len(values), size)], "joined"
    return ids, list(weights), list(values), "tuple"


def _encode(
    ids: list[int], weights: list[float], values: list[Any] | None, form: str, lengths: bytes | None
) -> tuple[tuple[Any, ...], bytes]:
    """A block as ``ArchivePostingsWriter._write_block`` writes it: (info, data)."""
    packed = array("f", weights)
    mini_values: Any = None
    if form == "joined":
        mini_values = b"".join(values or ())
    elif form == "tuple":
        mini_values = tuple(values or ())
    databytes, comp = block_data(ids, packed, mini_values, COMPRESSION)
    if lengths is not None:
        present = [lengths[d] for d in ids if lengths[d]]
        min_byte = min(present) if present else length_to_byte(None)
        max_byte = max(present) if present else 0
    else:
        min_byte = max_byte = 0
    info = (len(ids), ids[-1], max(packed), comp, min_byte, max_byte)
    return info, databytes
