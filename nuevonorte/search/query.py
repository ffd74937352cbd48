"""Searching an index: ranking, filters, facets, snippets, transcript moments, suggestions.

The visitor's text is read by ``parse`` (words and phrases only, never Whoosh's query
language); ``highlight`` marks the words met and ``suggest`` offers a corrected query.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from markupsafe import Markup, escape
from whoosh.query import Every, Query

from nuevonorte.search import store, warmup
from nuevonorte.search.highlight import CueHit, Marker, cue_hits, snippet
from nuevonorte.search.parse import MAX_QUERY_CHARS, field_language, parse
from nuevonorte.search.schema import FACETS, QUERY_FIELDS, text_language
from nuevonorte.search.suggest import suggestion
from nuevonorte.search.whoosh_internals.matching import Search

__all__ = ["MAX_QUERY_CHARS", "CueHit", "SearchHit", "SearchResults", "search_index"]

MAX_PAGE = 100
PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
FACET_VALUES = 20
FILTER_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")


@dataclass(frozen=True)
class SearchHit:
    """One story found."""

    public_id: str
    title_es: str
    title_en: str
    summary_es: str
    summary_en: str
    language: str
    snippet: Markup
    cues: list[CueHit]
    themes: list[str]
    status: str | None = None  # staff index only
    snippet_lang: str = "es"  # the language of the text the snippet was taken from
    source: str = "here"  # "here", or "p<partner id>" for a partner archive's story

    def title(self, locale: str) -> str:
        """The title in ``locale``, or the other language's."""
        return (self.title_en or self.title_es) if locale == "en" else (self.title_es or self.title_en)


@dataclass
class SearchResults:
    """A page of results with its facets. ``problem`` names why there are none, if known."""

    query: str
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 0
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    filters: dict[str, str] = field(default_factory=dict)
    suggestion: str | None = None
    problem: str | None = None  # "empty" | "bad-filter" | "page-out-of-range" | "too-long"


def clean_filters(raw: dict[str, str], extra: tuple[str, ...] = ()) -> tuple[dict[str, str], bool]:
    """The well-formed facet filters, and whether any given one was malformed and dropped."""
    good: dict[str, str] = {}
    dropped = False
    for name in (*FACETS, *extra):
        value = raw.get(name)
        if not value:
            continue
        value = value.strip().lower()
        if FILTER_VALUE.match(value):
            good[name] = value
        else:
            dropped = True
    return good, dropped


def search_index(
    kind: str,
    raw_query: str,
    lang: str,
    filters: dict[str, str] | None = None,
    page: int = 1,
    pagelen: int = PAGE_SIZE,
) -> SearchResults:
    """Search the ``public`` or ``staff`` index. Raises store.IndexUnavailable when it cannot."""
    lang = "en" if lang == "en" else "es"
    extra = ("status",) if kind == store.STAFF else ()
    good_filters, dropped = clean_filters(filters or {}, extra)
    parsed = parse(raw_query or "")
    results = SearchResults(query=raw_query[:MAX_QUERY_CHARS], filters=good_filters)
    if dropped:
        results.problem = "bad-filter"
    if len(raw_query or "") > MAX_QUERY_CHARS:
        results.problem = "too-long"
    pagelen = max(1, min(pagelen, MAX_PAGE_SIZE))
    page = max(1, min(page, MAX_PAGE))
    facet_names = (*FACETS, *extra)
    if kind == store.PUBLIC:
        warmup.poke(store.index_root())
    with store.searcher(kind) as s:
        query: Query
        if parsed.match is not None:
            query = parsed.match
        elif good_filters:
            query = Every()
        else:
            results.problem = results.problem or "empty"
            return results
        search = Search(s)
        allowed = search.m.live().copy()
        for name, value in good_filters.items():
            allowed &= search.term_mask(name, value)
        mask = search.mask(query) & allowed
        results.total = int(np.count_nonzero(mask))
        results.pages = math.ceil(results.total / pagelen)
        if results.total and page > results.pages:
            results.problem = results.problem or "page-out-of-range"
            page = results.pages
        results.page = page
        matched = np.flatnonzero(mask)
        for name in facet_names:
            counts = search.facet_counts(name, mask, matched)
            results.facets[name] = sorted(counts, key=lambda kv: (-kv[1], kv[0]))[:FACET_VALUES]
        if results.total:
            terms = parsed.highlight_terms()
            markers = {code: Marker(wanted, code) for code, wanted in terms.items()}
            rank = parsed.rank if parsed.rank is not None else query
            # Only the page slice is touched: hits beyond it are never highlighted or loaded.
            docnums = search.ranked(rank, mask, page * pagelen)[(page - 1) * pagelen :]
            for docnum, met in zip(docnums, _fields_met(search, terms, docnums), strict=True):
                results.hits.append(_hit(s.stored_fields(docnum), lang, markers, kind, met))
        elif parsed.plain_words():
            results.suggestion = suggestion(s, parsed.plain_words(), allowed)
    return results


def _fields_met(search: Search, terms: dict[str, frozenset[str]], docnums: list[int]) -> list[set[str]]:
    """Per hit, the searched fields holding a word met, from the postings the search read.

    A text can hold a word met only when its field does (``documents``: the body and cues are
    in a ``text_`` field, the summaries in a ``head_``), so only those texts are scanned for
    highlights: a story found by its title is not read word by word through its whole body.
    """
    ids = np.asarray(docnums, dtype=np.int64)
    held = {name: search.holding(name, terms[field_language(name)], ids) for name in QUERY_FIELDS}
    return [{name for name, found in held.items() if found[i]} for i in range(len(ids))]


def _hit(
    hit: Mapping[str, Any], lang: str, markers: dict[str, Marker], kind: str, met: set[str]
) -> SearchHit:
    other = "es" if lang == "en" else "en"
    shown = ""
    told_in = hit.get("language") or "es"  # the body's own language, whatever its analyser's
    for text, fieldname, text_lang in (
        (hit.get("body") or "", f"text_{text_language(told_in)}", told_in),
        (hit.get(f"summary_{lang}") or "", f"head_{lang}", lang),
        (hit.get(f"summary_{other}") or "", f"head_{other}", other),
    ):
        shown = snippet(text, markers[field_language(fieldname)]) if fieldname in met else ""
        if shown:
            shown_lang = text_lang
            break
    if not shown:
        shown_lang = lang if hit.get(f"summary_{lang}") else other
        shown = str(escape((hit.get(f"summary_{lang}") or hit.get(f"summary_{other}") or "")[:240]))
    themes = [t for t in (hit.get(f"themes_{lang}") or "").split(" · ") if t]
    return SearchHit(
        public_id=hit["pid"],
        title_es=hit.get("title_es", ""),
        title_en=hit.get("title_en", ""),
        summary_es=hit.get("summary_es", ""),
        summary_en=hit.get("summary_en", ""),
        language=hit.get("language", ""),
        snippet=Markup(shown),  # noqa: S704 (highlight.marked escapes everything but <mark>)
        cues=cue_hits(hit.get("cues") or "[]", {c: m for c, m in markers.items() if f"text_{c}" in met}),
        themes=themes,
        status=hit.get("status") if kind == store.STAFF else None,
        snippet_lang=shown_lang,
        source=hit.get("source") or "here",
    )
