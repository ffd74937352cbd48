"""A segment file's ``get`` as one ``os.pread`` of the file underneath.

Looking a word up in a segment's term table (a hash table in the segment's file) is about six
``get(position, length)`` calls: its slot, the key's lengths, the key, the term's info. With mmap
off (a truncated segment would kill the worker with SIGBUS: decision 0001), each ``get`` goes
through Whoosh's ``StructFile`` and ``SubFile`` (the segment inside its compound file) to a
buffered reader: a seek, a buffered read, and their Python layers, about 5 µs. A search reads
each of its words in each of the index's segments (twenty at 100,000 stories), so on a word no
visitor asked this worker before that was a fifth of the search (benchmarks/README.md).

``direct_gets`` gives such a file a ``get`` that reads the same bytes with one system call, at
the same offsets, bounded by the same sub-file. Everything else (``seek``, ``read`` and their
position) is left as it was; ``get`` no longer moves the position, and nothing that reads these
files after a ``get`` relies on it (Whoosh's term table and leaf matchers, ``scrub``, and
``matching`` seek first or use ``get`` only). Relies on whoosh-reloaded 2.7.5 (pinned).
"""

from __future__ import annotations

import os
from typing import Any

from whoosh.filedb.compound import SubFile
from whoosh.filedb.structfile import StructFile


def direct_gets(f: Any) -> Any:
    """Give ``f`` (a ``StructFile`` over a ``SubFile`` of a real file, or over the real file)
    a ``get`` that is one ``os.pread``; any other file is left as it is. Returns ``f``."""
    if not isinstance(f, StructFile):
        return f
    inner = f.file
    if isinstance(inner, SubFile):
        real, base, size = inner._file, inner._offset, inner._length
    else:
        real, base, size = inner, 0, None
    try:
        fd = real.fileno()
    except (AttributeError, OSError, ValueError):  # in memory, or already closed
        return f

    def get(position: int, length: int) -> bytes:
        if real.closed:  # never read a number the system gave to another file since
            raise ValueError("I/O operation on closed file")
        if size is not None:
            length = min(length, size - position)
        if length <= 0:
            return b""
        found = os.pread(fd, length, base + position)
        while len(found) < length:  # a short read: only at the end, or past 2 GB at once
            more = os.pread(fd, length - len(found), base + position + len(found))
            if not more:
                break
            found += more
        return found

    f.get = get
    return f
