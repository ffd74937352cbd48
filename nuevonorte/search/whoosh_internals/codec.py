"""The codec our indexes are written with: Whoosh's W3 codec, posting blocks packed as arrays.

W3 pickles each block of postings (ids, weights, and in positional fields each posting's
positions as a small pickle of its own) and compresses the pickle. Reading a term a visitor
had not asked for yet was mostly that unpickling: about 0.5 µs per posting, positions
included, at 100,000 stories tens of milliseconds for one common word (decision 0029). Here a
block is packed arrays instead, compressed with zlib at W3's level (a block under 20 bytes is
stored as it is, and its header says so):

    BLOCK_MAGIC, the kind of values (1 byte), the count (u32),
    the id deltas (u32 each, the first from 0: W3's own), the weights (float32: W3 keeps them
    as ``array("f")`` already), then the values: none, one joined string of fixed-size values,
    or each value's length (u32) and the values joined.

All numbers are little-endian. A positional field's value is ``PackedPositions``: its position
deltas as u32, so a term's positions come out of its blocks with one ``numpy.frombuffer``.
Everything else in the files (term tables, lengths, stored fields, the block headers Whoosh
reads to skip blocks) is W3's, and ``ArchiveLeafMatcher`` gives Whoosh's own matchers the same
decoded tuples a W3 block gives them, so any query Whoosh runs itself reads these blocks too.
A block that is not packed (a segment written by Whoosh's own codec) is unpickled, as W3 does.

Relies on whoosh-reloaded 2.7.5 (pinned): ``_write_block`` below is its
``W3PostingsWriter._write_block`` with the data packed, and ``_read_data`` its
``W3LeafMatcher._read_data``.
"""

from __future__ import annotations

import io
import pickle
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any

from isal import isal_zlib
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3LeafMatcher,
    W3PerDocReader,
    W3PostingsWriter,
)
from whoosh.formats import Positions
from whoosh.matching import ListMatcher
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import length_to_byte

from nuevonorte.search.whoosh_internals.pread import direct_gets

#: zlib's inflate, done by ISA-L: the same bytes, in half the time of zlib's own (the largest
#: part of reading a word no visitor asked this worker before: benchmarks/README.md). Blocks are
#: still written by zlib itself.
inflate = isal_zlib.decompress
#: A block's bytes, or a view of them.
Buffer = bytes | memoryview
#: Blocks shorter than this are not worth compressing.
MIN_COMPRESSED = 20
#: Postings per block (W3 writes 128). A term is read whole (``matching.extent_postings``), so
#: each block costs a pickled header and a zlib stream of its own for nothing: with 1,024 the
#: twenty heaviest terms of 20,000 documents decode in 24 ms instead of 42, in 11 % fewer
#: bytes (benchmarks/README.md). Whoosh's own matchers skip by block, only more coarsely.
BLOCK_POSTINGS = 1024
#: The start of a packed block's data (a pickle starts with 0x80, a zlib stream with 0x78).
BLOCK_MAGIC = b"\xa5NNp"
#: The kinds of values a packed block holds.
NO_VALUES, JOINED_VALUES, SIZED_VALUES = 0, 1, 2
_HEAD = struct.Struct("<BI")
HEAD_SIZE = len(BLOCK_MAGIC) + _HEAD.size
_BIG_ENDIAN = sys.byteorder == "big"
if array("I").itemsize != 4 or array("f").itemsize != 4:  # the layout is u32 and float32
    raise ImportError("the search codec needs 4-byte unsigned ints and floats in array")


def little_endian(numbers: array[Any]) -> bytes:
    """An ``array``'s bytes, little-endian on any machine."""
    if _BIG_ENDIAN:
        numbers = array(numbers.typecode, numbers)
        numbers.byteswap()
    return numbers.tobytes()


def _from_little_endian(typecode: str, raw: Buffer) -> array[Any]:
    numbers = array(typecode)
    numbers.frombytes(raw)
    if _BIG_ENDIAN:
        numbers.byteswap()
    return numbers


def pack_block(deltas: Iterable[int], weights: Sequence[float], values: Any) -> bytes:
    """A block's data, uncompressed: ``values`` is None (a format without values), one joined
    string (fixed-size values) or a sequence of byte strings."""
    ids = array("I", deltas)
    parts = [BLOCK_MAGIC, b"", little_endian(ids), little_endian(array("f", weights))]
    if values is None:
        kind = NO_VALUES
    elif isinstance(values, bytes):
        kind = JOINED_VALUES
        parts.append(values)
    else:
        kind = SIZED_VALUES
        parts.append(little_endian(array("I", map(len, values))))
        parts.append(b"".join(values))
    parts[1] = _HEAD.pack(kind, len(ids))
    return b"".join(parts)


def is_packed(raw: Buffer) -> bool:
    """Whether a block's (uncompressed) data is packed by ``pack_block``."""
    return bytes(raw[: len(BLOCK_MAGIC)]) == BLOCK_MAGIC


def packed_parts(data: Buffer, count: int) -> tuple[Buffer, Buffer, int, Buffer, Buffer] | None:
    """A packed block's parts as little-endian bytes: (id deltas, weights, kind of values,
    each value's length (SIZED_VALUES only), the values); None when ``data`` is not a packed
    block of ``count`` postings. Parts of a ``memoryview`` are views of it, not copies."""
    if not is_packed(data) or len(data) < HEAD_SIZE:
        return None
    kind, found = _HEAD.unpack_from(data, len(BLOCK_MAGIC))
    ids_end = HEAD_SIZE + 4 * count
    weights_end = ids_end + 4 * count
    lengths_end = weights_end + (4 * count if kind == SIZED_VALUES else 0)
    if found != count or len(data) < lengths_end:
        return None
    return (
        data[HEAD_SIZE:ids_end],
        data[ids_end:weights_end],
        kind,
        data[weights_end:lengths_end],
        data[lengths_end:],
    )


def unpack_block(raw: bytes, count: int) -> tuple[array[int], array[float], Any]:
    """A packed block's (id deltas, weights, values) as W3's readers hold a decoded block:
    values None, one joined string, or a tuple of byte strings."""
    parts = packed_parts(raw, count)
    if parts is None:
        raise ValueError("not a packed posting block of its count")
    ids, weights, kind, lengths, joined = parts
    deltas, floats = _from_little_endian("I", ids), _from_little_endian("f", weights)
    if kind == NO_VALUES:
        return deltas, floats, None
    if kind == JOINED_VALUES:
        return deltas, floats, joined
    values = []
    at = 0
    for length in _from_little_endian("I", lengths):
        values.append(joined[at : at + length])
        at += length
    return deltas, floats, tuple(values)


class PackedPositions(Positions):
    """Whoosh's ``Positions`` (frequency, weight and positions of each posting), each value
    being the deltas between its positions (the first from 0) as u32, little-endian: what
    ``matching`` reads as an array. The frequency is the number of positions."""

    def encode(self, poslist: Sequence[int]) -> bytes:
        return little_endian(array("I", (b - a for a, b in zip([0, *poslist], poslist, strict=False))))

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return list(accumulate(_from_little_endian("I", valuestring)))

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

    def decode_weight(self, valuestring: bytes) -> float:
        return float(self.decode_frequency(valuestring) * self.field_boost)


class ArchiveCodec(W3Codec):
    """W3 with packed posting blocks of ``BLOCK_POSTINGS``; everything else is W3's."""

    def __init__(self, blocklimit: int | None = None) -> None:
        super().__init__(blocklimit=blocklimit or BLOCK_POSTINGS)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        return ArchivePostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def terms_reader(self, storage: Any, segment: Any) -> Any:
        """W3's term table and postings reader, their ``get`` one ``os.pread`` each (``pread``)."""
        reader = super().terms_reader(storage, segment)
        direct_gets(reader._tindex.dbfile)
        direct_gets(reader._postfile)
        return reader

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return ArchivePerDocReader(storage, segment)

    def postings_reader(
        self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None
    ) -> ListMatcher | W3LeafMatcher:
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return ArchiveLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


class ArchivePerDocReader(W3PerDocReader):
    """W3's per-document reader (lengths, stored fields); its column files' ``get`` is one
    ``os.pread`` (``pread``), and stored fields are inflated by ISA-L. A page of results reads
    twenty documents' stored fields: each was a seek, a buffered read and zlib's inflate, about
    34 µs, as much as finding the page's words at 10,000 stories."""

    def _get_column_file(self, fieldname: str) -> tuple[Any, int, int]:
        colfile, offset, length = super()._get_column_file(fieldname)
        return direct_gets(colfile), offset, length

    def column_reader(self, fieldname: str, column: Any) -> Any:
        reader = super().column_reader(fieldname, column)
        if fieldname == "_stored":  # W3's STORED_COLUMN: pickles in a zlib column
            reader._child._decompress = inflate
        return reader


class ArchivePostingsWriter(W3PostingsWriter):
    """W3's postings writer; blocks of document postings are packed (``pack_block``)."""

    def _write_block(self, last: bool = False) -> None:
        if self._byteids:  # term vectors (not used by the archive's schemas): W3's own
            super()._write_block(last)
            return
        if not self._blockcount:  # the first block of a term starts with the magic number
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        ids = self._ids
        databytes, comp = block_data(ids, self._weights, self._mini_values(), self._compression)
        # Block info, read to decide whether to skip the block: count, last id, maximum
        # weight, compression level, minimum and maximum length bytes.
        infobytes = pickle.dumps(
            (
                len(ids),
                ids[-1],
                self._maxweight,
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            2,
        )
        blocklength = len(infobytes) + len(databytes)
        self._postfile.write_int(-blocklength if last else blocklength)  # negative: the last
        self._postfile.write(infobytes)
        self._postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


def block_data(
    ids: Sequence[int], weights: Sequence[float], values: Any, compression: int
) -> tuple[bytes, int]:
    """A block's data as written, and its compression level (the block header says it):
    packed, then compressed unless it is short."""
    deltas = (b - a for a, b in zip([0, *ids], ids, strict=False))
    databytes = pack_block(deltas, weights, values)
    if compression and len(databytes) >= MIN_COMPRESSED:
        return zlib.compress(databytes, compression), compression
    return databytes, 0


class ArchiveLeafMatcher(W3LeafMatcher):
    """W3's leaf matcher, reading packed blocks (and W3's pickled ones)."""

    def _read_data(self) -> None:
        raw = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)
        self._data = block_tuple(bytes(raw), self._compression, self._blocklength)


def block_tuple(raw: bytes, compression: int, count: int) -> tuple[Any, Any, Any]:
    """A block's data as W3's readers hold it: (id deltas, weights, values)."""
    data = inflate(raw) if compression else raw
    if is_packed(data):
        return unpack_block(data, count)
    found: tuple[Any, Any, Any] = pickle.loads(data)  # noqa: S301 (our own index files, as Whoosh reads them)
    return found


def block_deltas(raw: bytes, compression: int, count: int) -> Sequence[int]:
    """A block's id deltas only (its values are not split up)."""
    data = inflate(raw) if compression else raw
    parts = packed_parts(data, count)
    if parts is not None:
        return _from_little_endian("I", parts[0])
    return tuple(pickle.loads(data)[0])  # noqa: S301 (a block of W3's own, as Whoosh reads it)


def extent_length(length: Any) -> int | None:
    """A posting list's byte length as W3's term info holds it (``from_bytes`` leaves it in a
    1-tuple); None when it is neither."""
    if isinstance(length, tuple):
        length = length[0] if len(length) == 1 else None
    return length if isinstance(length, int) else None


def posting_blocks(
    postings: bytes | bytearray, offset: int, length: int
) -> Iterator[tuple[tuple[Any, ...], int, int]]:
    """(info, start of the block's data, end of the block) for each block of the posting list
    at ``offset``: after W3's 4-byte magic, each block is a signed big-endian length (negative
    for the last), a pickled info tuple (count, last id, maximum weight, compression level,
    minimum and maximum length bytes) and the data."""
    pos = offset + len(WHOOSH3_HEADER_MAGIC)
    end = offset + length
    while pos + _INT_SIZE <= end:
        size = abs(int.from_bytes(postings[pos : pos + _INT_SIZE], "big", signed=True))
        block_end = pos + _INT_SIZE + size
        head = io.BytesIO(bytes(postings[pos + _INT_SIZE : min(block_end, pos + _INT_SIZE + 256)]))
        info = pickle.load(head)  # noqa: S301 (our own index's block header)
        yield info, pos + _INT_SIZE + head.tell(), block_end
        pos = block_end


def length_bytes(perdoc: Any, fieldname: str) -> bytes | None:
    """Every document's stored length byte for ``fieldname`` in one read of a segment's
    per-document reader (W3 keeps them as one fixed-width column); None without lengths."""
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    if column is None:
        return None
    return bytes(column._dbfile.get(column._basepos, column._count))
