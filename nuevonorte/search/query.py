"""Searching an index: query cleaning, ranking, filters, facets, snippets, transcript moments.

Visitors' text is never given to Whoosh's full query language: fields, wildcards, ranges,
groups, boosts and operators are switched off, stray syntax is removed, and only balanced
double quotes (phrases) survive. Every word is looked up in every language field with that
field's own analyser, so a Spanish word also finds English translations' stems and back.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from whoosh import highlight, qparser
from whoosh.query import And, Every, Query, Term
from whoosh.searching import Hit, Searcher

from nuevonorte.search import store
from nuevonorte.search.schema import ANALYZERS, FACETS, QUERY_FIELDS, analyzer_for, fold, stopwords

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
    """A matching passage of a transcript: where it starts and its highlighted text."""

    start_seconds: int
    text_html: Markup


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
        filter_q = And([Term(name, value) for name, value in good_filters.items()]) if good_filters else None
        found = s.search(query, limit=page * pagelen, filter=filter_q)
        matched = set(s.docs_for_query(query))
        if filter_q is not None:
            matched &= set(s.docs_for_query(filter_q))
        results.total = len(matched)
        results.pages = math.ceil(results.total / pagelen)
        if results.total and page > results.pages:
            results.problem = results.problem or "page-out-of-range"
            page = results.pages
        results.page = page
        for name in facet_names:
            results.facets[name] = _facet_counts(s, name, matched)
        terms = _query_terms(words)
        # Only the page slice is touched: hits beyond it are never highlighted or loaded.
        for hit in found[(page - 1) * pagelen : page * pagelen]:
            results.hits.append(_hit(hit, lang, terms, kind))
        if not results.total and words:
            results.suggestion = _suggest(s, words)
    return results


def _facet_counts(s: Searcher, name: str, matched: set[int]) -> list[tuple[str, int]]:
    """Counts of each value of facet ``name`` among the matched documents, most frequent first.

    Whoosh's own ``groupedby`` facets re-read the field's postings on every search and score
    every match; instead, each (per-worker) searcher keeps a document -> values table per facet,
    built once when it opens, and counting is a pass over the matched document numbers.
    """
    table = _facet_table(s, name)
    counts: Counter[str] = Counter()
    for docnum in matched:
        values = table.get(docnum)
        if values:
            counts.update(values)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:FACET_VALUES]


#: Per-segment facet tables, keyed by (segment id, field). Segments never change once
#: written, so a table stays valid until its segment is merged away; a publish only adds a
#: small segment, whose table is cheap to build.
_segment_tables: dict[tuple[str, str], dict[int, tuple[str, ...]]] = {}
MAX_SEGMENT_TABLES = 400


def _facet_table(s: Searcher, name: str) -> dict[int, tuple[str, ...]]:
    """Document number -> values of facet ``name``, for the searcher's whole index."""
    tables: dict[str, dict[int, tuple[str, ...]]] = s.__dict__.setdefault("_nn_facet_tables", {})
    if name not in tables:
        parts = s.subsearchers if s.subsearchers else [(s, 0)]
        merged: dict[int, tuple[str, ...]] = {}
        for sub, offset in parts:
            segment = sub.reader().segment() if hasattr(sub.reader(), "segment") else None
            key = (segment.segment_id() if segment is not None else f"whole-{id(sub)}", name)
            table = _segment_tables.get(key)
            if table is None:
                table = _build_table(sub, name)
                if segment is not None:
                    if len(_segment_tables) >= MAX_SEGMENT_TABLES:
                        _segment_tables.clear()
                    _segment_tables[key] = table
            merged.update({d + offset: v for d, v in table.items()} if offset else table)
        tables[name] = merged
    return tables[name]


def _build_table(s: Searcher, name: str) -> dict[int, tuple[str, ...]]:
    collected: dict[int, list[str]] = {}
    if name in s.schema:
        reader = s.reader()
        for term in reader.lexicon(name):
            value = _text(term)
            for docnum in reader.postings(name, term).all_ids():
                collected.setdefault(docnum, []).append(value)
    return {d: tuple(v) for d, v in collected.items()}


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _query_terms(words: list[str]) -> dict[str, frozenset[str]]:
    text = " ".join(words)
    return {lang: frozenset(t.text for t in ANALYZERS[lang](text)) for lang in ANALYZERS}


def _hit(hit: Hit, lang: str, terms: dict[str, frozenset[str]], kind: str) -> SearchHit:
    other = "es" if lang == "en" else "en"
    snippet = ""
    for field_lang, name in ((lang, "body"), (other, "body"), (lang, "summary"), (other, "summary")):
        snippet = _snippet(hit.get(f"{name}_{field_lang}") or "", terms[field_lang], ANALYZERS[field_lang])
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
        snippet=Markup(snippet),  # noqa: S704 (HtmlFormatter escapes everything but <mark>)
        cues=_cue_hits(hit.get("cues") or "[]", terms),
        themes=themes,
        status=hit.get("status") if kind == store.STAFF else None,
    )


SNIPPET_WINDOW = 420


def _snippet(text: str, wanted: frozenset[str], analyzer: Any) -> str:
    """Highlighted fragments of ``text`` around the query's terms (HTML-escaped but <mark>).

    Only a window around the first place a term's stem appears is analysed, not the whole
    story: re-analysing 300 words per hit was most of a query's time.
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
    html: str = highlight.highlight(
        window,
        wanted,
        analyzer,
        highlight.ContextFragmenter(maxchars=240, surround=60),
        highlight.HtmlFormatter(tagname="mark", between=" … "),
        top=2,
    )
    return html


def _cue_hits(stored: str, terms: dict[str, frozenset[str]]) -> list[CueHit]:
    hits = []
    for start_ms, text, cue_lang in json.loads(stored):
        analyzer = analyzer_for(cue_lang)
        wanted = terms["es" if cue_lang == "es" else "en"]
        if not wanted or not any(t in fold(text) for t in wanted):  # cheap test before analysing
            continue
        if not wanted & {t.text for t in analyzer(text)}:
            continue
        html = highlight.highlight(
            text,
            wanted,
            analyzer,
            highlight.WholeFragmenter(),
            highlight.HtmlFormatter(tagname="mark"),
        )
        hits.append(CueHit(int(start_ms) // 1000, Markup(html or escape(text))))  # noqa: S704
        if len(hits) == CUES_PER_HIT:
            break
    return hits


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
