"""The archive's common words: a phrase of two of them is one term to read (decision 0034).

A phrase is matched on its words' positions (``matching.Search.phrase_mask``), and a word
most stories use has a great many: decoding them was most of what a phrase of two such words
cost. So each text field also indexes, for each two consecutive words that are both common, a
*pair* term "a b" (``schema.SharedText``, counted in no field length),
and a phrase of exactly two common words is the documents of its pair term: the same
documents, since consecutive words are consecutive positions (stop words hold none).

Which words are common is chosen by each full rebuild from a sample of the *public* documents
(words in at least a tenth of those in their language and in at least ``MIN_SHARED``), and fixed for that
build's life: every document written to it is indexed with the same choice, and a search asks
the choice of the index it reads. It is kept in the build's folder (``PAIRS_FILE``) as
numbers of a 12-bit hash (``schema.word_hash``), never as words; a word whose hash is taken
is treated as common too, which only adds pair terms. An archive too small for any word to
be that common has none, and its phrases are matched on positions, which are few.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from nuevonorte.search.documents import PublicDocument
from nuevonorte.search.schema import ANALYZERS, LANGUAGES, word_hash

#: The file of an index folder naming its common words' hashes.
PAIRS_FILE = ".nn-pairs"
#: At most this many stories' public documents are read to choose the common words.
SAMPLE = 2_000
#: A word is common when at least this share of the sampled documents with text in its
#: language hold it…
SHARE = 0.10
#: …and at least this many of them: no word of a few stories is ever chosen.
MIN_SHARED = 50
#: At most this many common words per language (the most shared first). A word is kept as its
#: hash, so about 1.6 % of the other words (64 of 4,096 hashes) are treated as common too.
MOST = 64

#: Per language, the hashes of its common words.
Common = Mapping[str, frozenset[int]]
NONE: Common = {lang: frozenset() for lang in LANGUAGES}


def sample(ids: list[int]) -> list[int]:
    """At most ``SAMPLE`` of ``ids``, spread evenly over them."""
    step = max(1, -(-len(ids) // SAMPLE))
    return ids[::step]


def choose(documents: Iterable[PublicDocument]) -> Common:
    """The common words of public documents (only ``public_document`` makes one, as for
    ``store.write_public``), as their hashes."""
    shared: dict[str, Counter[str]] = {lang: Counter() for lang in LANGUAGES}
    holding = dict.fromkeys(LANGUAGES, 0)
    for document in documents:
        for lang in LANGUAGES:
            text = document.fields.get(f"text_{lang}")
            if text:
                holding[lang] += 1
                shared[lang].update(set(ANALYZERS[lang].kept(text)))
    chosen = {}
    for lang in LANGUAGES:
        least = max(MIN_SHARED, SHARE * holding[lang])
        chosen[lang] = frozenset(word_hash(w) for w, n in shared[lang].most_common(MOST) if n >= least)
    return chosen


def save(folder: Path, common: Common) -> None:
    """Keep ``common`` in an index folder (written before its first document)."""
    (folder / PAIRS_FILE).write_text(json.dumps({lang: sorted(common[lang]) for lang in LANGUAGES}))


def load(folder: Path) -> Common:
    """The common words an index folder was built with (none when it names none)."""
    try:
        kept = json.loads((folder / PAIRS_FILE).read_text())
    except FileNotFoundError:
        return NONE
    return {lang: frozenset(int(b) for b in kept.get(lang, ())) for lang in LANGUAGES}
