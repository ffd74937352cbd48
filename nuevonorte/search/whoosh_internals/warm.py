"""Each segment's heaviest postings decoded ahead of visitors, into the postings cache.

A word this worker was never asked for costs the decoding of its postings in every segment
(``postings_cache``: decompressing its blocks and joining their arrays, positions included), and that
cost grows with how many postings the word has. Segments never change once written, so a
worker decodes, in the background, each new segment's terms with the largest postings first,
up to the segment's share of a budget of bytes (its share of the index's documents): the
words that cost a visitor most to decode are decoded before anyone asks.

Only numbers are decoded (document numbers, frequencies, positions), in memory; a deleted
document stays hidden by the live mask, and a segment purged or merged away leaves the cache
as any other entry does (``postings_cache.keep_only``).

Relies on whoosh-reloaded 2.7.5 (pinned): a segment reader's ``iter_field`` yields each term's
bytes with its ``TermInfo`` (documents holding it, and its total frequency).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from whoosh.searching import Searcher

from nuevonorte.search.schema import is_pair
from nuevonorte.search.whoosh_internals import postings_cache
from nuevonorte.search.whoosh_internals.matching import Matcher, segment_entry

#: Bytes of arrays per posting (document number, frequency, where its positions start) and
#: per position, as ``matching.segment_entry`` keeps them (a position's key: uint32 while the
#: segment's keys fit).
POSTING_BYTES = 12
POSITION_BYTES = 4

#: Segments already warmed in this process: a segment is warmed once (its entries may later
#: give way to the words visitors ask for).
_warmed: set[postings_cache.SegmentKey] = set()
_warmed_lock = threading.Lock()
MAX_WARMED = 4096


def heaviest(sub: Searcher, fields: Iterable[str], budget: int) -> list[tuple[str, str]]:
    """One segment's (field, term) pairs with the largest postings, largest first, as many as
    the arrays of fit in ``budget`` bytes (estimated from each term's counts)."""
    reader = sub.reader()
    sizes: list[tuple[int, str, str]] = []
    for fieldname in fields:
        if fieldname not in sub.schema:
            continue
        field = sub.schema[fieldname]
        for text, info in reader.iter_field(fieldname):
            if is_pair(text):  # read without positions, by phrases only
                continue
            size = POSTING_BYTES * info.doc_frequency() + POSITION_BYTES * int(info.weight())
            sizes.append((size, fieldname, field.from_bytes(text) if isinstance(text, bytes) else text))
    sizes.sort(key=lambda found: -found[0])
    picked: list[tuple[str, str]] = []
    used = 0
    for size, fieldname, text in sizes:
        if used + size > budget:
            break
        picked.append((fieldname, text))
        used += size
    return picked


def warm(s: Searcher, fields: Iterable[str], budget: int, stop: Callable[[], bool] = lambda: False) -> int:
    """Decode the heaviest postings of each segment of ``s`` not warmed before, within its
    share of ``budget`` bytes, into the postings cache; ``stop`` is asked between terms (the
    index moved on). Returns how many (segment, term) entries were decoded.

    Which terms are heaviest is read from the lexicon of the segment with the most documents
    only (reading every segment's lexicon took 13 s at 100,000 stories; one takes under one):
    stories are spread over segments in the order they were written, so the same words weigh
    most in each."""
    fields = list(fields)
    m = Matcher.of(s)  # opening it drops the cache's entries of segments gone since
    todo = [(sub, key) for (sub, _offset), key in zip(m.segments, m.keys, strict=True) if key is not None]
    with _warmed_lock:
        todo = [(sub, key) for sub, key in todo if key not in _warmed]
    if not todo:
        return 0
    total = max(1, m.size)
    biggest = max((sub for sub, _ in m.segments), key=lambda sub: sub.doc_count_all())
    words = heaviest(biggest, fields, budget * biggest.doc_count_all() // total)
    decoded = 0
    for sub, key in todo:
        share = budget * sub.doc_count_all() // total
        used = 0
        for fieldname, text in words:
            if stop():
                return decoded
            entry = segment_entry(sub, key, fieldname, text, positions=True)
            if entry is not None:
                decoded += 1
                used += sum(array.nbytes for array in entry)
                if used >= share:
                    break
        with _warmed_lock:
            if len(_warmed) >= MAX_WARMED:
                _warmed.clear()
            _warmed.add(key)
    return decoded


def forget() -> None:
    """Warm every segment again when next asked (tests, and after ``postings_cache.clear``)."""
    with _warmed_lock:
        _warmed.clear()
