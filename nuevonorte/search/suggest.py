""" "Did you mean": a corrected query built from the index's own vocabulary.

A suggestion is only offered when it is worth following: it changes a word that is not a
stop word of either language into one that is not either, and the corrected query as a whole
finds live documents in the same index with the same filters (the caller then checks those
against the database, as it checks every result: ``nuevonorte.search.search_public``). So
it is never made of stop words, never leads to an empty page, and never names a word only a
deleted or withdrawn story held.
"""

from __future__ import annotations

import re

import numpy as np
from whoosh.query import Term
from whoosh.searching import Searcher

from nuevonorte.search.parse import parse
from nuevonorte.search.schema import ANY_STOPWORD, fold
from nuevonorte.search.whoosh_internals.matching import Search

#: Words shorter than this are never corrected, nor proposed: "1" is not a typo of "a".
MIN_LETTERS = 3
_LETTERS = re.compile(rf"[^\W\d_]{{{MIN_LETTERS},}}")


def suggestion(s: Searcher, words: list[str], mask: np.ndarray) -> str | None:
    """A corrected query for ``words`` that finds live documents within ``mask`` (the
    documents the filters allow), or None."""
    corrector = s.corrector("spell")
    changed = False
    out = []
    for word in words:
        folded = fold(word)
        if folded in ANY_STOPWORD or not _LETTERS.fullmatch(folded) or _live(s, folded):
            out.append(word)
            continue
        best = next(
            (
                c
                for c in corrector.suggest(folded, limit=5, maxdist=2)
                if c not in ANY_STOPWORD and _LETTERS.fullmatch(c) and _live(s, c)
            ),
            None,
        )
        out.append(best or word)
        changed = changed or best is not None
    if not changed:
        return None
    text = " ".join(out)
    query = parse(text).match
    if query is None:
        return None
    search = Search(s)
    return text if np.any(search.mask(query) & mask) else None


def _live(s: Searcher, term: str) -> bool:
    return bool(s.search(Term("spell", term), limit=1))
