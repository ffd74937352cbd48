"""tantivy-py beside the archive's Whoosh search, for ``benchmarks/search.py --peers``.

tantivy is not a dependency of the archive: it is installed into the virtualenv for this
benchmark only (``.venv/bin/pip install tantivy``), and nothing but this module imports it.

The index is built from the rows ``search.fts_documents`` gives SQLite FTS5 (the same public
documents of the same synthetic stories), with the work of a search kept comparable to
``search_index``'s: the query's words looked up in four fields, top 20 by BM25, a highlighted
snippet for each hit (``SnippetGenerator``, 240 characters) with its stored fields read, the
exact number of matches, and counts of all six facets over the matched stories.

Fields. The searched fields are the archive's four (``schema.QUERY_FIELDS``, same boosts:
head 3, text 1): ``head_es`` and ``head_en`` are the row's Spanish and English title and
summary, ``text_<language>`` its body and transcript (both in the story's language here), and
``text_`` of the other language stays empty, as it does in the archive when nothing is
translated. Each field is analysed in its own language: simple tokenizer (Unicode letters
and digits), lower case, Snowball stemmer (Spanish or English), then ASCII folding — the
archive's order (decision 0011: the Spanish stemmer sees the accents), which gives the same
indexed forms on the corpus's words ("deportación" -> "deport", "niños" -> "nin").
Facets are raw-tokenized text fields with fast (columnar) values, one value per slug:
``theme`` holds both of a story's themes, as the archive's does.

Queries go through tantivy's own query parser over the four fields with AND between words
(each word an OR of its forms in the four fields, as ``parse._word_query``; a quoted phrase a
phrase query in each field). The facet filter ("faceted") is a term on the raw ``theme``
field, required, with a constant score of 0 so it does not change the ranking. Facet counts
are one ``terms`` aggregation per facet in a single ``Searcher.aggregate`` over the same query
(tantivy's ``FacetCollector`` is not exposed by tantivy-py); it is a second pass over the
matches, as FTS5's GROUP BY is, where the archive counts facets and ranks from one mask.

What differs from the archive's search (README, "Search"), and from FTS5:

- no stop words are removed (FTS5 removes none either; the archive drops Spanish and English
  stop words and makes them optional in a query; the generated queries hold none);
- a Spanish word typed without its accents is looked up as typed only (the archive also looks
  up each accented spelling: ``LanguageAnalyzer.query_terms``); the generated queries are
  spelled as the stories spell them, so the matches are the same, but the archive looks up
  more terms per word;
- the head holds the title and summary only (the archive's also holds the theme and place
  names, and its text the credited name), as FTS5's columns do;
- one snippet per hit from ``text_<language>`` (body and transcript); the archive also marks up
  to three transcript moments per hit (``cue_hits``) and falls back to the summaries;
- FTS5 (``build_fts``) analyses every column with one English stemmer (porter) after removing
  diacritics, filters on a story's first theme only and counts only that facet.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

try:
    import tantivy
except ImportError as error:  # not a dependency: installed for the benchmark only
    raise SystemExit(
        f"--peers needs tantivy-py, which the archive does not depend on ({error}).\n"
        "Install it into the virtualenv for this benchmark only:\n"
        "    .venv/bin/pip install tantivy"
    ) from error

from nuevonorte.search.schema import FACETS, QUERY_FIELDS

STEMMERS = {"es": "spanish", "en": "english"}
SNIPPET_CHARS = 240  # highlight.SNIPPET_CHARS
FACET_VALUES = 20  # query.FACET_VALUES
AGGREGATION = {name: {"terms": {"field": name, "size": FACET_VALUES}} for name in FACETS}


def version() -> str:
    from importlib.metadata import version as installed

    return installed("tantivy")


def analyzer(lang: str) -> Any:
    """Tokenize, lower-case, stem in ``lang``, then fold accents (the archive's order)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer(STEMMERS[lang]))
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


class Peer:
    """A tantivy index of the FTS5 rows, in a folder of its own."""

    def __init__(self, folder: Path) -> None:
        builder = tantivy.SchemaBuilder()
        for name in QUERY_FIELDS:  # head_es, head_en, text_es, text_en: stored, for the hits
            builder.add_text_field(name, stored=True, tokenizer_name=f"nn_{name.rsplit('_', 1)[1]}")
        builder.add_text_field("pid", stored=True, tokenizer_name="raw", index_option="basic")
        for name in FACETS:
            builder.add_text_field(name, stored=True, fast=True, tokenizer_name="raw", index_option="basic")
        self.schema = builder.build()
        self.folder = folder
        self.index = tantivy.Index(self.schema, path=str(folder))
        for lang in STEMMERS:
            self.index.register_tokenizer(f"nn_{lang}", analyzer(lang))

    def fill(self, rows: Iterable[dict[str, Any]], threads: int) -> tuple[float, int]:
        """Index ``rows`` (``fts_documents``'s) in one commit, merges awaited; returns the
        seconds taken and the segment count."""
        start = time.perf_counter()
        writer = self.index.writer(num_threads=threads)
        for i, row in enumerate(rows, 1):
            doc = tantivy.Document()
            lang = "en" if row["language"] == "en" else "es"
            doc.add_text("pid", f"s{i:015d}")
            doc.add_text("head_es", f"{row['title_es']}\n{row['summary_es']}")
            doc.add_text("head_en", f"{row['title_en']}\n{row['summary_en']}")
            doc.add_text(f"text_{lang}", "\n\n".join(t for t in (row["body"], row["transcript"]) if t))
            for name in FACETS:
                for value in row["facets"][name]:
                    doc.add_text(name, value)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        elapsed = time.perf_counter() - start
        return elapsed, self.index.searcher().num_segments

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())

    def search(self, q: str, filters: dict[str, str]) -> int:
        """One search as ``search_index`` makes it; returns the number of matches."""
        searcher = self.index.searcher()
        query = self.index.parse_query(
            q, list(QUERY_FIELDS), field_boosts=dict(QUERY_FIELDS), conjunction_by_default=True
        )
        for name, value in filters.items():
            term = tantivy.Query.term_query(self.schema, name, value, index_option="basic")
            query = query.and_must_match(tantivy.Query.const_score_query(term, 0.0))
        result = searcher.search(query, 20, count=True)
        snippets: dict[str, Any] = {}
        for _score, address in result.hits:
            doc = searcher.doc(address)
            lang = "en" if doc.get_first("language") == "en" else "es"
            if lang not in snippets:
                snippets[lang] = tantivy.SnippetGenerator.create(searcher, query, self.schema, f"text_{lang}")
                snippets[lang].set_max_num_chars(SNIPPET_CHARS)
            snippets[lang].snippet_from_doc(doc).to_html()
        counts = searcher.aggregate(query, AGGREGATION)
        assert set(counts) == set(FACETS)
        return result.count


def build(rows: list[dict[str, Any]], folder: Path, threads: int) -> tuple[Peer, float, int]:
    """A tantivy index of ``rows`` in ``folder`` (made here); the seconds and segments."""
    folder.mkdir()
    peer = Peer(folder)
    elapsed, segments = peer.fill(rows, threads)
    return peer, elapsed, segments


def latency(peer: Peer, qs: list[tuple[str, dict[str, str]]]) -> tuple[list[float], list[int]]:
    """Milliseconds and totals of each query, after the same warm-up as ``whoosh_latency``."""
    for q, f in qs[:5]:
        peer.search(q, f)
    ms, totals = [], []
    for q, f in qs:
        start = time.perf_counter()
        totals.append(peer.search(q, f))
        ms.append((time.perf_counter() - start) * 1000)
    return ms, totals
