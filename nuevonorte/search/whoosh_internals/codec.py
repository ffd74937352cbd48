"""The codec our indexes are written with: Whoosh's W3 codec, posting blocks pickled faster.

W3 pickles each block of postings (ids, weights, and in positional fields each posting's
positions as a small ``bytes``) with pickle protocol 2, where every ``bytes`` object becomes a
call to ``_codecs.encode`` when read back: reading a term's positional postings cost about
four times what reading its ids and weights cost. With the highest protocol they are plain
byte strings (measured: 47 µs -> 10 µs per block of 128 positional postings, and half the
bytes to compress). Readers are unchanged: they unpickle whatever protocol was written, so
segments written before this codec, or by Whoosh's own writer, read the same.

Relies on whoosh-reloaded 2.7.5 (pinned): ``_write_block`` below is its
``W3PostingsWriter._write_block`` with the protocol changed (and its intent not to compress
pickles under 20 bytes, which a reassignment had undone, restored).
"""

from __future__ import annotations

import pickle
import zlib
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3Codec, W3PostingsWriter
from whoosh.util.numeric import length_to_byte

#: Pickles shorter than this are not worth compressing.
MIN_COMPRESSED = 20


class ArchiveCodec(W3Codec):
    """W3 with posting blocks pickled at the highest protocol; everything else is W3's."""

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        return ArchivePostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


class ArchivePostingsWriter(W3PostingsWriter):
    """W3's postings writer; blocks are pickled with ``pickle.HIGHEST_PROTOCOL``."""

    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:  # the first block of a term starts with the magic number
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        data = (self._mini_ids(), self._mini_weights(), self._mini_values())
        databytes = pickle.dumps(data, pickle.HIGHEST_PROTOCOL)
        comp = self._compression if len(databytes) >= MIN_COMPRESSED else 0
        if comp:
            databytes = zlib.compress(databytes, comp)
        # Block info, read to decide whether to skip the block: count, last id, maximum
        # weight, compression level, minimum and maximum length bytes.
        ids = self._ids
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


def length_bytes(perdoc: Any, fieldname: str) -> bytes | None:
    """Every document's stored length byte for ``fieldname`` in one read of a segment's
    per-document reader (W3 keeps them as one fixed-width column); None without lengths."""
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    if column is None:
        return None
    return bytes(column._dbfile.get(column._basepos, column._count))
