"""Searching an index: query cleaning, ranking, filters, facets, snippets, transcript moments.

Visitors' text is never given to Whoosh's full query language: fields, wildcards, ranges,
groups, boosts and operators are switched off, stray syntax is removed, and only balanced
double quotes (phrases) survive. Every word is looked up in both languages' fields with each
field's own analyser, so a Spanish word also finds English translations' stems and back.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from markupsafe import Markup, escape
from whoosh import qparser
from whoosh.query import Every, Query, Term
from whoosh.searching import Searcher

from nuevonorte.search import store
from nuevonorte.search.matching import Search
from nuevonorte.search.schema import ANALYZERS, FACETS, QUERY_FIELDS, TOKEN, fold, stem, stopwords

MAX_QUERY_CHARS = 200
MAX_WORDS = 12
MAX_PAGE = 100
PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
FACET_VALUES = 20
CUES_PER_HIT = 3
FILTER_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_SYNTAX = re.compile(r"[*?:()\[\]{}^~\\+!<>=/|&'`-]+")
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})


@dataclass(frozen=True)
class CueHit:
    """A matching passage of a transcript: where it starts, and its highlighted text — the cue's
    own words, or its translation when only that matched — with that text's language."""

    start_seconds: int
    text_html: Markup
    lang: str = "es"


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


def clean_query(raw: str, lang: str) -> tuple[str, list[str]]:
    """The query text made safe for the parser, and its plain words (for suggestions).

    Removes control characters and query syntax, keeps double quotes only when balanced,
    drops typed operators and the stop words of the visitor's language.
    """
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in raw[:MAX_QUERY_CHARS])
    text = _SYNTAX.sub(" ", text)
    if text.count('"') % 2:
        text = text.replace('"', " ")
    stops = stopwords(lang)
    kept: list[str] = []
    words: list[str] = []
    for part in re.split(r'("[^"]*")', text):
        if part.startswith('"') and part.endswith('"') and len(part) > 1:
            inner = " ".join(part[1:-1].split()[:MAX_WORDS])
            if inner:
                kept.append(f'"{inner}"')
                words += inner.split()
            continue
        for word in part.split():
            if word in _OPERATORS or fold(word) in stops or len(words) >= MAX_WORDS:
                continue
            kept.append(word)
            words.append(word)
    return " ".join(kept), words


def _parser(schema: Any) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(QUERY_FIELDS), schema, fieldboosts=QUERY_FIELDS)
    for plugin in (
        qparser.SingleQuotePlugin,
        qparser.FieldsPlugin,
        qparser.WildcardPlugin,
        qparser.RangePlugin,
        qparser.GroupPlugin,
        qparser.OperatorsPlugin,
        qparser.BoostPlugin,
        qparser.EveryPlugin,
    ):
        parser.remove_plugin_class(plugin)
    return parser


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
    text, words = clean_query(raw_query or "", lang)
    results = SearchResults(query=raw_query[:MAX_QUERY_CHARS], filters=good_filters)
    if dropped:
        results.problem = "bad-filter"
    if len(raw_query or "") > MAX_QUERY_CHARS:
        results.problem = "too-long"
    pagelen = max(1, min(pagelen, MAX_PAGE_SIZE))
    page = max(1, min(page, MAX_PAGE))
    facet_names = (*FACETS, *extra)
    with store.searcher(kind) as s:
        if text:
            query: Query = _parser(s.schema).parse(text)
        elif good_filters:
            query = Every()
        else:
            results.problem = results.problem or "empty"
            return results
        search = Search(s)
        mask = search.mask(query)
        for name, value in good_filters.items():
            mask &= search.term_mask(name, value)
        results.total = int(np.count_nonzero(mask))
        results.pages = math.ceil(results.total / pagelen)
        if results.total and page > results.pages:
            results.problem = results.problem or "page-out-of-range"
            page = results.pages
        results.page = page
        for name in facet_names:
            counts = search.facet_counts(name, mask)
            results.facets[name] = sorted(counts, key=lambda kv: (-kv[1], kv[0]))[:FACET_VALUES]
        if results.total:
            terms = _query_terms(words)
            # Only the page slice is touched: hits beyond it are never highlighted or loaded.
            for docnum in search.ranked(query, mask, page * pagelen)[(page - 1) * pagelen :]:
                results.hits.append(_hit(s.stored_fields(docnum), lang, terms, kind))
        elif words:
            results.suggestion = _suggest(s, words)
    return results


def _query_terms(words: list[str]) -> dict[str, frozenset[str]]:
    text = " ".join(words)
    return {lang: frozenset(t.text for t in ANALYZERS[lang](text)) for lang in ANALYZERS}


def _hit(hit: Mapping[str, Any], lang: str, terms: dict[str, frozenset[str]], kind: str) -> SearchHit:
    other = "es" if lang == "en" else "en"
    snippet = ""
    body_lang = "en" if hit.get("language") == "en" else "es"
    for text, field_lang in (
        (hit.get("body") or "", body_lang),
        (hit.get(f"summary_{lang}") or "", lang),
        (hit.get(f"summary_{other}") or "", other),
    ):
        snippet = _snippet(text, terms[field_lang], field_lang)
        if snippet:
            break
    if not snippet:
        summary = hit.get(f"summary_{lang}") or hit.get(f"summary_{other}") or ""
        snippet = str(escape(summary[:240]))
    themes = [t for t in (hit.get(f"themes_{lang}") or "").split(" · ") if t]
    return SearchHit(
        public_id=hit["pid"],
        title_es=hit.get("title_es", ""),
        title_en=hit.get("title_en", ""),
        summary_es=hit.get("summary_es", ""),
        summary_en=hit.get("summary_en", ""),
        language=hit.get("language", ""),
        snippet=Markup(snippet),  # noqa: S704 (_marked escapes everything but <mark>)
        cues=_cue_hits(hit.get("cues") or "[]", terms),
        themes=themes,
        status=hit.get("status") if kind == store.STAFF else None,
    )


SNIPPET_WINDOW = 420
SNIPPET_CHARS = 240
SNIPPET_CONTEXT = 60
SNIPPET_FRAGMENTS = 2


def _matches(text: str, wanted: frozenset[str], lang: str) -> list[tuple[int, int]]:
    """Where in ``text`` the words whose indexed form is wanted are."""
    folded = fold(text)
    if len(folded) != len(text):  # a character folded to several: look word by word
        return [m.span() for m in TOKEN.finditer(text) if stem(m.group(), lang) in wanted]
    analyzer = ANALYZERS[lang]
    return [m.span() for m in TOKEN.finditer(folded) if analyzer.stem(m.group()) in wanted]


def _marked(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    """``text[start:end]`` HTML-escaped, with the spans inside it in <mark>."""
    out, at = [], start
    for a, b in spans:
        out += [str(escape(text[at:a])), "<mark>", str(escape(text[a:b])), "</mark>"]
        at = b
    out.append(str(escape(text[at:end])))
    return "".join(out)


def _snippet(text: str, wanted: frozenset[str], lang: str) -> str:
    """Highlighted fragments of ``text`` around the query's terms (HTML-escaped but <mark>).

    Only a window around the first place a term's stem appears is looked at, not the whole
    story, and each word's stem comes from a per-worker cache: analysing 300 words per hit
    with Whoosh's highlighter was most of a query's time. At most two fragments of about
    240 characters, the ones with the most matches, in text order, joined by " … ".
    """
    if not text or not wanted:
        return ""
    folded = fold(text)
    found = [i for i in (folded.find(t) for t in wanted) if i >= 0]
    if not found:
        return ""
    start = max(0, min(found) - SNIPPET_WINDOW // 3) if len(folded) == len(text) else 0
    if start:
        start = text.find(" ", start) + 1
    window = text[start : start + SNIPPET_WINDOW]
    spans = _matches(window, wanted, lang)
    fragments: list[tuple[int, int, list[tuple[int, int]]]] = []
    i = 0
    while i < len(spans):
        first = max(fragments[-1][1] if fragments else 0, spans[i][0] - SNIPPET_CONTEXT)
        if first:  # start at a word
            first = spans[i][0] - len(window[first : spans[i][0]].split(" ", 1)[-1])
        j = i + 1
        while j < len(spans) and spans[j][1] + SNIPPET_CONTEXT - first <= SNIPPET_CHARS:
            j += 1
        limit = spans[j][0] if j < len(spans) else len(window)  # never show the next match unmarked
        last = min(limit, spans[j - 1][1] + SNIPPET_CONTEXT)
        if last < len(window):  # end at a word
            last = spans[j - 1][1] + len(window[spans[j - 1][1] : last].rsplit(" ", 1)[0])
        fragments.append((first, last, spans[i:j]))
        i = j
    best = sorted(sorted(fragments, key=lambda f: -len(f[2]))[:SNIPPET_FRAGMENTS])
    return " … ".join(_marked(window, inside, first, last) for first, last, inside in best)


def _cue_hits(stored: str, terms: dict[str, frozenset[str]]) -> list[CueHit]:
    hits = []
    for start_ms, text, cue_lang, *rest in json.loads(stored):
        code = "es" if cue_lang == "es" else "en"
        translation = str(rest[0]) if rest else ""
        # The cue's own words first; else its translation (indexed in the other language).
        for said, lang in ((text, code), (translation, "en" if code == "es" else "es")):
            spans = _cue_matches(said, terms[lang], lang)
            if spans:
                marked = Markup(_marked(said, spans, 0, len(said)))  # noqa: S704
                hits.append(CueHit(int(start_ms) // 1000, marked, lang))
                break
        if len(hits) == CUES_PER_HIT:
            break
    return hits


def _cue_matches(text: str, wanted: frozenset[str], lang: str) -> list[tuple[int, int]]:
    if not text or not wanted or not any(t in fold(text) for t in wanted):  # cheap test first
        return []
    return _matches(text, wanted, lang)


def _suggest(s: Searcher, words: list[str]) -> str | None:
    """A corrected query built from the index's own vocabulary; only words that still find
    a live document are proposed, so terms of deleted stories are never suggested."""
    corrector = s.corrector("spell")
    changed = False
    out = []
    for word in words:
        folded = fold(word)
        if _live(s, folded) or not re.fullmatch(r"\w+", folded):
            out.append(word)
            continue
        best = next((c for c in corrector.suggest(folded, limit=5, maxdist=2) if _live(s, c)), None)
        out.append(best or word)
        changed = changed or best is not None
    return " ".join(out) if changed else None


def _live(s: Searcher, term: str) -> bool:
    return bool(s.search(Term("spell", term), limit=1))
