"""Search benchmark: a synthetic bilingual archive, our Whoosh index vs SQLite FTS5.

    .venv/bin/python benchmarks/search.py 10000
    .venv/bin/python benchmarks/search.py 100000
    .venv/bin/python benchmarks/search.py 10000 --publishes 1000 [--segment-docs 1000]
    .venv/bin/python benchmarks/search.py 10000 --peers [--no-database]

``--peers`` (needs tantivy-py, installed for this benchmark only: ``.venv/bin/pip install tantivy``)
also builds a tantivy index of the rows FTS5 gets (``search_peers.py``: how it is built and
searched, and what differs) and prints every query kind's p50/p95 for Whoosh, tantivy and
FTS5, with Whoosh's ratio to each, and the matches each found.

Stories are generated as (unsaved) ORM objects, each in the worker process that writes it,
and turned into index documents by the real document builders (``public_document`` and
``staff_document``), then written into both indexes by ``nuevonorte.search.whoosh_internals.bulk.fill`` — the
same path as ``nuevonorte reindex`` minus the database reads, so database setup does not
dominate. Queries go through the real ``search_index`` (facets on all six fields, highlighted
snippets, top 20). The same corpus and queries run against SQLite FTS5 (unicode61,
diacritics removed, porter; bm25 rank, snippet(), GROUP BY facet counts).

Unless ``--no-database``, the same stories are also saved in a SQLite archive first (as
``benchmarks/reindex.py`` does), and the queries are timed again through ``search_public``,
which checks every page of hits against the database (``search/recheck.py``). Then the
stories of the bilingual relevance suite (``tests/relevance.py``: the demo archive and the
suite's own) are published into the index beside the generated ones, and the share of the
suite's queries whose expected story is among the first three is printed.

With ``--publishes N`` (no FTS5, no database, 1-term queries only): the segment count, 1-term p50/p95, the
first search after a publish and a publish's index commit, on the fresh build and again after
N stories published one at a time (each a commit of both indexes, as a request makes).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask import Flask

from nuevonorte import search
from nuevonorte.config import KEYS
from nuevonorte.models import (
    ConsentRecord,
    Credit,
    Cue,
    GivenBy,
    MediaFile,
    MediaKind,
    Place,
    PlaceLevel,
    Story,
    StoryStatus,
    Theme,
    Transcript,
    Visibility,
)
from nuevonorte.search import common_words, store
from nuevonorte.search.documents import PublicDocument, public_document, staff_document
from nuevonorte.search.query import search_index
from nuevonorte.search.schema import FACETS, QUERY_FIELDS
from nuevonorte.search.whoosh_internals import bulk, postings_cache, segments, warm
from tests import relevance

ES_WORDS = (
    "frontera familia deportado deportación migración regreso trabajo casa madre padre hijos niños "
    "ciudad pueblo camino noche desierto río miedo esperanza papeles cruzar volver extrañar escuela "
    "campo fábrica maquiladora tren autobús coyote abuela hermano hermana comida fiesta iglesia "
    "calle barrio policía detención cárcel juez abogado asilo refugio llegada salida despedida"
).split()
EN_WORDS = (
    "border family deported deportation migration return work house mother father children kids "
    "city town road night desert river fear hope papers cross come back miss school field factory "
    "train bus smuggler grandmother brother sister food party church street neighborhood police "
    "detention jail judge lawyer asylum shelter arrival departure farewell"
).split()
THEMES = [
    ("deportacion", "Deportación", "Deportation"),
    ("retorno", "Retorno", "Return"),
    ("familia", "Familia", "Family"),
    ("trabajo", "Trabajo", "Work"),
    ("frontera", "Frontera", "Border"),
    ("infancia", "Infancia", "Childhood"),
    ("asilo", "Asilo", "Asylum"),
    ("comunidad", "Comunidad", "Community"),
]
PLACES = [
    ("tijuana", "Tijuana", "MX"),
    ("juarez", "Ciudad Juárez", "MX"),
    ("guadalajara", "Guadalajara", "MX"),
    ("phoenix", "Phoenix", "US"),
    ("los-angeles", "Los Ángeles", "US"),
    ("chicago", "Chicago", "US"),
    ("san-salvador", "San Salvador", "SV"),
    ("tegucigalpa", "Tegucigalpa", "HN"),
]


def vocabulary(rng: random.Random, base: list[str], size: int) -> list[str]:
    """Real words first (most frequent), then made-up words from syllables (a long tail)."""
    syllables = [c + v for c in "bcdlmnrst" for v in "aeiou"]
    words = list(base)
    seen = set(words)
    while len(words) < size:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


class Corpus:
    """A reproducible synthetic bilingual archive."""

    def __init__(self, n: int, seed: int = 7) -> None:
        self.n = n
        self.seed = seed
        self.rng = random.Random(seed)
        self.vocab = {
            "es": vocabulary(self.rng, ES_WORDS, 30_000),
            "en": vocabulary(self.rng, EN_WORDS, 30_000),
        }
        self.cum_weights = {
            k: list(accumulate(1 / (i + 1) ** 0.9 for i in range(len(v)))) for k, v in self.vocab.items()
        }
        self.themes = [
            Theme(id=i + 1, slug=s, name_es=es, name_en=en) for i, (s, es, en) in enumerate(THEMES)
        ]
        self.places = [
            Place(id=i + 1, slug=s, name_es=name, name_en=name, country_code=cc, level=PlaceLevel.CITY)
            for i, (s, name, cc) in enumerate(PLACES)
        ]

    def words(self, rng: random.Random, lang: str, k: int) -> list[str]:
        return rng.choices(self.vocab[lang], cum_weights=self.cum_weights[lang], k=k)

    def sentence(self, rng: random.Random, lang: str, k: int) -> str:
        return " ".join(self.words(rng, lang, k)).capitalize() + "."

    def stories(self, ids: Iterable[int] | None = None) -> Iterator[Story]:
        """Stories 1..n (or those of ``ids``); story i is the same whichever are asked for."""
        for i in ids if ids is not None else range(1, self.n + 1):
            yield self.story(i)

    def story(self, i: int) -> Story:
        rng = random.Random(self.seed * 1_000_003 + i)
        lang = "es" if rng.random() < 0.7 else "en"
        paragraphs = [
            "\n".join(self.sentence(rng, lang, 15) for _ in range(4)) for _ in range(5)
        ]  # ~300 words
        story = Story(
            id=i,
            public_id=f"s{i:015d}",
            status=StoryStatus.PUBLISHED,
            original_language=lang,
            body="\n\n".join(paragraphs),
            title_es=self.sentence(rng, "es", 5),
            title_en=self.sentence(rng, "en", 5),
            summary_es=self.sentence(rng, "es", 25),
            summary_en=self.sentence(rng, "en", 25),
            restricted_paragraphs="4" if i % 10 == 0 else "",
            period_start=rng.randint(1960, 2020),
            period_end=None,
            themes=rng.sample(self.themes, 2),
            places=rng.sample(self.places, 1),
        )
        story.consents = [
            ConsentRecord(
                seq=1,
                visibility=Visibility.PUBLIC,
                credit=Credit.PSEUDONYM,
                credit_name=f"Narradora {i}",
                voice_public=i % 2 == 0,
                photos_public=False,
                in_collections=True,
                embargo_until=None,
                text_version="2026-11",
                text_language="es",
                given_by=GivenBy.CONTRIBUTOR,
            )
        ]
        if i % 5 == 0:  # transcripts on a fifth of the stories
            media = MediaFile(
                kind=MediaKind.AUDIO, mime_type="audio/mpeg", storage_key="k", checksum="0", size_bytes=1
            )
            media.transcript = Transcript(
                language=lang,
                cues=[
                    Cue(
                        position=c,
                        start_ms=c * 7000,
                        end_ms=c * 7000 + 6500,
                        text=self.sentence(rng, lang, 12),
                        translation="",  # the column's default, applied only when a row is saved
                        restricted=c == 3,
                    )
                    for c in range(20)
                ],
            )
            story.media = [media]
        return story

    def queries(self, count: int) -> dict[str, list[tuple[str, dict[str, str]]]]:
        """Mid-frequency words (neither stop-like nor absent), pairs, phrases, faceted."""
        rng = random.Random(11)
        pool = {lang: v[:2000] for lang, v in self.vocab.items()}

        def word() -> tuple[str, str]:
            lang = rng.choice(["es", "en"])
            return rng.choice(pool[lang][:400]), lang

        one = [(word()[0], {}) for _ in range(count)]
        two = [(f"{word()[0]} {word()[0]}", {}) for _ in range(count)]
        phrase = []
        for _ in range(count):
            lang = rng.choice(["es", "en"])
            a, b = rng.choice(ES_WORDS if lang == "es" else EN_WORDS), rng.choice(pool[lang][:50])
            phrase.append((f'"{a} {b}"', {}))
        faceted = [(word()[0], {"theme": rng.choice(THEMES)[0]}) for _ in range(count)]
        return {"1-term": one, "2-term": two, "phrase": phrase, "faceted": faceted}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def build_whoosh(corpus: Corpus, root: Path, procs: int) -> tuple[float, int]:
    """A full rebuild into a new build folder, as ``nuevonorte reindex`` does it, with the
    stories generated instead of read from the database (in the worker that writes them)."""

    def documents(ids: list[int]) -> Iterator[tuple[PublicDocument | None, dict | None]]:
        for story in corpus.stories(ids):
            yield public_document(story), staff_document(story)

    done = 0
    start = time.perf_counter()

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if done // 10_000 != (done - n) // 10_000:
            print(f"  {done} stories, {time.perf_counter() - start:.0f} s", flush=True)

    sampled = (doc for doc, _ in documents(common_words.sample(list(range(1, corpus.n + 1)))) if doc)
    common = common_words.choose(sampled)
    print("  common words (decision 0034): " + ", ".join(f"{k} {len(v)}" for k, v in common.items()))
    build = store.new_build(root, common)
    bulk.PARALLEL_FROM = 1 if procs > 1 else 10**12
    counts = bulk.fill(build, list(range(1, corpus.n + 1)), documents, store.segment_bound(), progress)
    elapsed = time.perf_counter() - start
    store.check_counts(build, counts)
    store.swap_in(build, root)
    size = sum(p.stat().st_size for p in (build / "public").iterdir())
    segments = len(list((build / "public").glob("*.seg")))
    print(f"  public index: {segments} segment(s)")
    return elapsed, size


def fts_documents(corpus: Corpus) -> Iterator[dict]:
    """The FTS5 rows of the same public documents (with what ``search_peers`` indexes besides:
    the title and summary per language, and every facet's values)."""
    for story in corpus.stories():
        doc = public_document(story)
        assert doc is not None
        f = doc.fields
        yield {
            "title": f"{f['title_es']} {f['title_en']}",
            "summary": f"{f['summary_es']} {f['summary_en']}",
            "body": f["body"],
            "transcript": " ".join(c[1] for c in json.loads(f["cues"])),
            "theme": f["theme"].split(",")[0],
            "language": f["language"],
            "title_es": f["title_es"],
            "title_en": f["title_en"],
            "summary_es": f["summary_es"],
            "summary_en": f["summary_en"],
            "facets": {name: [v for v in f[name].split(",") if v] for name in FACETS},
        }


def build_fts(docs: list[dict], path: Path) -> tuple[float, sqlite3.Connection]:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE VIRTUAL TABLE fts USING fts5(title, summary, body, transcript, "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    conn.execute("CREATE TABLE meta (id INTEGER PRIMARY KEY, theme TEXT, language TEXT)")
    start = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO fts (rowid, title, summary, body, transcript) VALUES (?, ?, ?, ?, ?)",
            ((i, d["title"], d["summary"], d["body"], d["transcript"]) for i, d in enumerate(docs, 1)),
        )
        conn.executemany(
            "INSERT INTO meta (id, theme, language) VALUES (?, ?, ?)",
            ((i, d["theme"], d["language"]) for i, d in enumerate(docs, 1)),
        )
        conn.execute("CREATE INDEX meta_theme ON meta(theme)")
    return time.perf_counter() - start, conn


def fts_query(conn: sqlite3.Connection, q: str, filters: dict[str, str]) -> int:
    """One search: the top 20 with a snippet, and the theme counts; returns the matches."""
    match = q if q.startswith('"') else " AND ".join(f'"{w}"' for w in q.split())
    where, args = "fts MATCH ?", [match]
    if "theme" in filters:
        where += " AND meta.theme = ?"
        args.append(filters["theme"])
    conn.execute(
        "SELECT fts.rowid, snippet(fts, 2, '<mark>', '</mark>', '…', 20) "
        f"FROM fts JOIN meta ON meta.id = fts.rowid "
        f"WHERE {where} ORDER BY rank LIMIT 20",
        args,
    ).fetchall()
    counts = conn.execute(
        "SELECT meta.theme, count(*) FROM fts JOIN meta ON meta.id = fts.rowid "
        f"WHERE {where} GROUP BY meta.theme",
        args,
    ).fetchall()
    return sum(n for _, n in counts)  # one theme per row: the counts add up to the matches


COLD_AND_WARM = (
    "(cold: the postings cache emptied before each query; warm: after one pass over the same queries)"
)


def whoosh_latency(qs: list[tuple[str, dict[str, str]]], cold: bool = False) -> tuple[list[float], list[int]]:
    """Milliseconds and totals of each query through ``search_index``, after one untimed pass
    over the same queries (as in a worker that has answered them before); with ``cold``, after
    five queries only, and the per-worker postings cache emptied before each query (not
    timed), as for words no visitor asked this worker before."""
    for q, f in qs if not cold else qs[:5]:  # warm: every word met once before (cold: warm-up only)
        search_index(store.PUBLIC, q, "es", f, 1, 20)
    ms, totals = [], []
    for q, f in qs:
        if cold:
            postings_cache.clear()
        start = time.perf_counter()
        totals.append(search_index(store.PUBLIC, q, "es", f, 1, 20).total)
        ms.append((time.perf_counter() - start) * 1000)
    return ms, totals


def timed_passes(
    qs: list[tuple[str, dict[str, str]]], database: bool
) -> tuple[list[float], list[float], list[int], str]:
    """One kind's cold and warm milliseconds, its totals, and the re-check's p50/p95 column
    (dashes without the database)."""
    cold, totals = whoosh_latency(qs, cold=True)
    warm, _ = whoosh_latency(qs)
    if not database:
        return cold, warm, totals, f"{'-':>14} {'-':>8}"
    checked = recheck_latency(qs)
    return cold, warm, totals, f"{percentile(checked, 50):>14.1f} {percentile(checked, 95):>8.1f}"


WARMED = (
    "(after the warm-up: the postings cache as a web worker has it once its warm-up pass is done, "
    "search_warm_mb = {mb}, restored before each query)"
)


def warm_up() -> tuple[float, list[Any]]:
    """An empty postings cache, then the warm-up pass a web worker makes at start
    (``search.warmup``); its seconds and the cache it leaves."""
    postings_cache.clear()
    warm.forget()
    start = time.perf_counter()
    with store.searcher(store.PUBLIC) as s:
        warm.warm(s, QUERY_FIELDS, KEYS["search_warm_mb"].default * 1024 * 1024)
    return time.perf_counter() - start, postings_cache.snapshot()


def warmed_latency(qs: list[tuple[str, dict[str, str]]], kept: list[Any]) -> tuple[list[float], int]:
    """Milliseconds of each query on a worker that has made its warm-up pass and answered
    nothing else (the cache restored to ``kept`` before each), and how many decoded nothing."""
    ms, untouched = [], 0
    for q, f in qs:
        postings_cache.restore(kept)
        start = time.perf_counter()
        search_index(store.PUBLIC, q, "es", f, 1, 20)
        ms.append((time.perf_counter() - start) * 1000)
        untouched += postings_cache.stats()[0] == len(kept)
    return ms, untouched


def print_warmed(queries: dict[str, list[tuple[str, dict[str, str]]]]) -> None:
    seconds, kept = warm_up()
    terms, size = postings_cache.stats()
    print(
        f"\nWarm-up pass: {seconds:.1f} s, {terms} (segment, term) entries, {size / 1e6:.1f} MB "
        f"of the {postings_cache.MAX_BYTES / 2**20:.0f} MB cache"
    )
    print(WARMED.format(mb=KEYS["search_warm_mb"].default))
    print(f"{'query':<10} {'p50':>8} {'p95':>8}   queries that decoded nothing")
    for kind, qs in queries.items():
        ms, untouched = warmed_latency(qs, kept)
        print(f"{kind:<10} {percentile(ms, 50):>8.1f} {percentile(ms, 95):>8.1f}   {untouched}/{len(qs)}")


def recheck_latency(qs: list[tuple[str, dict[str, str]]]) -> list[float]:
    """Milliseconds of each query through ``search.search_public``: ``search_index`` and the
    check of the page's hits against the database."""
    for q, f in qs[:5]:
        search.search_public(q, "es", f, 1, 20)
    ms = []
    for q, f in qs:
        start = time.perf_counter()
        search.search_public(q, "es", f, 1, 20)
        ms.append((time.perf_counter() - start) * 1000)
    return ms


def relevance_score(first_id: int) -> tuple[float, list[str]]:
    """Publish the relevance suite's stories into the public index (beside the generated
    ones), then the share of its queries whose expected story is among the first three, and
    the queries that missed."""
    keys: dict[str, str] = {}
    docs = []
    for key, story in relevance.unsaved_stories(first_id):
        doc = public_document(story)
        if doc is not None:
            docs.append(doc)
            keys[story.public_id] = key
    store.write_public(docs, [])
    found = {}
    for q in relevance.QUERIES:
        hits = search_index(store.PUBLIC, q.query, q.lang, {}, 1, relevance.TOP).hits
        found[q] = [keys.get(h.public_id, "(generated)") for h in hits]
    missed = [f"{q.query!r} ({q.lang}): {found[q]}, wanted {q.key}" for q in found if q.key not in found[q]]
    return relevance.score(found), missed


def reuse(args: argparse.Namespace) -> None:
    """The query timings again, on a folder a previous run kept: each query with the postings
    cache emptied first (cold), then as a worker that has served a while answers (warm), then
    through ``search_public`` with the database re-check when the folder holds the archive."""
    folder = Path(args.reuse)
    database = (folder / "archive.sqlite3").exists()
    if database:
        from reindex import archive_app

        app = archive_app(folder)
    else:
        app = Flask(__name__)
        app.config["INDEX_DIR"] = str(folder / "index")
    with app.app_context():
        queries = Corpus(args.n).queries(args.queries)
        print(f"Latency in ms over {args.queries} queries per kind, top 20, snippets, facet counts")
        print(COLD_AND_WARM)
        print(
            f"{'query':<10} {'cold p50':>9} {'p95':>8} {'warm p50':>9} {'p95':>8} "
            f"{'+ recheck p50':>14} {'p95':>8} {'hits~':>7}"
        )
        for kind, qs in queries.items():
            cold, warm, totals, rechecked = timed_passes(qs, database)
            print(
                f"{kind:<10} {percentile(cold, 50):>9.1f} {percentile(cold, 95):>8.1f} "
                f"{percentile(warm, 50):>9.1f} {percentile(warm, 95):>8.1f} {rechecked} "
                f"{statistics.mean(totals):>7.0f}"
            )
        terms, size = postings_cache.stats()
        print(f"postings cache after the runs: {terms} terms, {size / 1e6:.1f} MB")
        print_warmed(queries)
        store.forget_searchers()


def publish(corpus: Corpus, i: int) -> float:
    """Publish story ``i`` as a request does (a commit of each index); returns the public
    index's commit time in ms."""
    story = corpus.story(i)
    doc, staff = public_document(story), staff_document(story)
    assert doc is not None and staff is not None
    start = time.perf_counter()
    store.write_public([doc], [])
    elapsed = 1000 * (time.perf_counter() - start)
    store.write_staff([staff], [])
    return elapsed


def first_search_ms() -> float:
    """A search right after a commit: it opens a new searcher over the new segments."""
    start = time.perf_counter()
    search_index(store.PUBLIC, "frontera", "es", {}, 1, 20)
    return 1000 * (time.perf_counter() - start)


def fragmentation(corpus: Corpus, n: int, publishes: int, queries: list[tuple[str, dict[str, str]]]) -> None:
    """The four figures of issue 12's fragmentation measurement, fresh and after ``publishes``
    single publishes."""

    def figures(commits: list[float], first: float) -> dict[str, str]:
        ms, _ = whoosh_latency(queries)
        return {
            "segments (public, staff)": (
                f"{len(store.open_index(store.PUBLIC)._segments())}, "
                f"{len(store.open_index(store.STAFF)._segments())}"
            ),
            "1-term p50 / p95 ms": f"{percentile(ms, 50):.1f} / {percentile(ms, 95):.1f}",
            "first search after a publish ms": f"{first:.0f}",
            "publish commit ms p50 / p95 / max": (
                f"{percentile(commits, 50):.0f} / {percentile(commits, 95):.0f} / {max(commits):.0f}"
            ),
        }

    commits = [publish(corpus, n + 1)]
    fresh = figures(commits, first_search_ms())
    commits = []
    start = time.perf_counter()
    maintenance = 0.0
    for k in range(2, publishes + 1):
        commits.append(publish(corpus, n + k))
        waited = time.perf_counter()
        segments.wait()  # the background merges a publish starts (between two publishes)
        maintenance += time.perf_counter() - waited
        if k % 100 == 0:
            print(f"  {k} publishes, {time.perf_counter() - start:.0f} s", flush=True)
    commits.append(publish(corpus, n + publishes + 1))
    after = figures(commits, first_search_ms())
    print(f"\nFresh build, then after {publishes} single publishes (each: a commit of both indexes)")
    print(f"  background merges after the publishes took {maintenance:.1f} s in all")
    for name in fresh:
        print(f"  {name:<36} {fresh[name]:>18} -> {after[name]}")


#: One query kind under ``--peers``: ms of Whoosh, tantivy and FTS5, then their matches.
Compared = tuple[list[float], list[float], list[float], list[int], list[int], list[int]]


def print_peers(compared: dict[str, Compared], count: int) -> None:
    """The ``--peers`` table: each kind's p50/p95 per engine, Whoosh's ratios, mean matches."""
    print(
        f"\nWhoosh (search_index, cold: its postings cache emptied before each query, as the peers "
        f"decode postings for every query) beside tantivy and FTS5: ms over {count} queries per kind, "
        "top 20 by BM25, snippets, facet counts (FTS5: the first theme only); ratio = Whoosh / peer"
    )
    print(
        f"{'':<10} {'whoosh':>15} {'tantivy':>15} {'fts5':>15}   {'whoosh/tantivy':>15} "
        f"{'whoosh/fts5':>15}   {'matches (mean)':>22}"
    )
    print(
        f"{'query':<10} {'p50':>7} {'p95':>7} {'p50':>7} {'p95':>7} {'p50':>7} {'p95':>7}   "
        f"{'p50':>7} {'p95':>7} {'p50':>7} {'p95':>7}   {'whoosh':>6} {'tantivy':>7} {'fts5':>7}"
    )
    for kind, (whoosh_ms, peer_ms, fts_ms, whoosh_n, peer_n, fts_n) in compared.items():
        p = {
            name: (percentile(ms, 50), percentile(ms, 95))
            for name, ms in (("whoosh", whoosh_ms), ("tantivy", peer_ms), ("fts5", fts_ms))
        }
        figures = " ".join(f"{p[name][i]:>7.2f}" for name in p for i in (0, 1))
        ratios = "   ".join(
            " ".join(f"{p['whoosh'][i] / max(p[peer][i], 1e-9):>6.1f}x" for i in (0, 1))
            for peer in ("tantivy", "fts5")
        )
        matches = " ".join(
            f"{statistics.mean(n):>{w}.0f}" for n, w in ((whoosh_n, 6), (peer_n, 7), (fts_n, 7))
        )
        print(f"{kind:<10} {figures}   {ratios}   {matches}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="number of stories")
    parser.add_argument("--queries", type=int, default=100, help="queries per kind")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--procs", type=int, choices=[1, 2], default=None, help="writing processes (as reindex)"
    )
    parser.add_argument(
        "--reuse",
        metavar="FOLDER",
        help="time the queries again on a folder kept by --keep (no build, no FTS5); n must match",
    )
    parser.add_argument(
        "--publishes", type=int, metavar="N", help="time N single publishes after the build (no FTS5)"
    )
    parser.add_argument(
        "--segment-docs", type=int, default=None, help="the segment bound (search_segment_docs)"
    )
    parser.add_argument(
        "--no-database",
        action="store_true",
        help="no SQLite archive: time search_index only, without the database re-check",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also build tantivy over the FTS5 rows and compare Whoosh, tantivy and FTS5 (needs tantivy)",
    )
    args = parser.parse_args()
    peers = None
    if args.peers:
        if args.reuse or args.publishes:
            parser.error("--peers builds its own indexes: not with --reuse or --publishes")
        import search_peers as peers  # exits with how to install tantivy when it is missing
    if args.reuse:
        reuse(args)
        return

    tmp = Path(tempfile.mkdtemp(prefix="nn-search-bench-"))
    database = not (args.no_database or args.publishes)
    if database:
        from reindex import archive_app

        app = archive_app(tmp)
    else:
        app = Flask(__name__)
        app.config["INDEX_DIR"] = str(tmp / "index")
    if args.segment_docs:
        app.config["SEARCH_SEGMENT_DOCS"] = args.segment_docs
    corpus = Corpus(args.n)
    print(f"Synthetic bilingual archive: {args.n} stories (~300 words; transcripts of 20 cues on a fifth)")
    with app.app_context():
        if database:
            from reindex import fill

            from nuevonorte.extensions import db

            db.create_all()
            start = time.perf_counter()
            fill(args.n)  # before the index exists: its commits leave the outbox, as a restore does
            db.session.remove()
            print(f"SQLite archive of the same stories filled in {time.perf_counter() - start:.0f} s")
        procs = args.procs or bulk.rebuild_procs(args.n)
        elapsed, size = build_whoosh(corpus, tmp / "index", procs)
        print(
            f"Whoosh: full rebuild (public and staff indexes, as `nuevonorte reindex` without the "
            f"database reads) of {args.n} stories in {elapsed:.1f} s = {args.n / elapsed:.0f} "
            f"stories/s ({procs} process(es) writing both indexes); public index {size / 1e6:.0f} MB"
        )
        print(f"  (kept in {tmp})" if args.keep else "")
        start = time.perf_counter()
        with store.searcher(store.PUBLIC):
            pass
        print(f"Whoosh: opening a searcher {1000 * (time.perf_counter() - start):.0f} ms")
        if args.publishes:
            fragmentation(corpus, args.n, args.publishes, corpus.queries(args.queries)["1-term"])
            store.forget_searchers()
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
            return
        rows = list(fts_documents(corpus))
        fts_elapsed, conn = build_fts(rows, tmp / "fts.sqlite3")
        print(
            f"FTS5:   indexed in {fts_elapsed:.1f} s; "
            f"database {(tmp / 'fts.sqlite3').stat().st_size / 1e6:.0f} MB"
        )
        if peers is not None:
            peer, peer_elapsed, peer_segments = peers.build(rows, tmp / "tantivy", procs)
            print(
                f"tantivy {peers.version()}: indexed the same rows in {peer_elapsed:.1f} s "
                f"({procs} thread(s), merges awaited; {peer_segments} segment(s)); "
                f"index {peer.size() / 1e6:.0f} MB"
            )
        del rows
        queries = corpus.queries(args.queries)
        compared: dict[str, Compared] = {}
        print(f"\nLatency in ms over {args.queries} queries per kind, top 20, snippets, facet counts")
        print("(+ recheck: search_public, the page's hits checked against the SQLite archive)")
        print(COLD_AND_WARM)
        print(
            f"{'query':<10} {'cold p50':>9} {'p95':>8} {'warm p50':>9} {'p95':>8} {'+ recheck p50':>14} "
            f"{'p95':>8} {'hits~':>7}   {'fts5 p50':>9} {'p95':>8}"
        )
        for kind, qs in queries.items():
            cold_ms, whoosh_ms, totals, rechecked = timed_passes(qs, database)
            if peers is not None:
                for q, f in qs[:5]:  # the same warm-up as the others (only when comparing)
                    fts_query(conn, q, f)
            fts_ms, fts_totals = [], []
            for q, f in qs:
                start = time.perf_counter()
                fts_totals.append(fts_query(conn, q, f))
                fts_ms.append((time.perf_counter() - start) * 1000)
            print(
                f"{kind:<10} {percentile(cold_ms, 50):>9.1f} {percentile(cold_ms, 95):>8.1f} "
                f"{percentile(whoosh_ms, 50):>9.1f} {percentile(whoosh_ms, 95):>8.1f} "
                f"{rechecked} {statistics.mean(totals):>7.0f}   "
                f"{percentile(fts_ms, 50):>9.1f} {percentile(fts_ms, 95):>8.1f}"
            )
            if peers is not None:
                peer_ms, peer_totals = peers.latency(peer, qs)
                compared[kind] = (cold_ms, peer_ms, fts_ms, totals, peer_totals, fts_totals)
        print_warmed(queries)
        if compared:
            print_peers(compared, args.queries)
        share, missed = relevance_score(args.n + 100)
        print(
            f"\nRelevance suite ({len(relevance.QUERIES)} queries, tests/relevance.py) among the "
            f"{args.n} generated stories: {share:.1%} find their story in the top {relevance.TOP}"
        )
        for line in missed:
            print(f"  missed: {line}")
        # One more story, committed like a publish in a request, then a new searcher.
        story = next(Corpus(1, seed=99).stories())
        story.id = args.n + 1
        start = time.perf_counter()
        doc = public_document(story)
        assert doc is not None
        store.write_public([doc], [])
        commit_ms = 1000 * (time.perf_counter() - start)
        start = time.perf_counter()
        search_index(store.PUBLIC, "frontera", "es", {}, 1, 20)
        print(
            f"\nPublish one story: index commit {commit_ms:.0f} ms; first search after it "
            f"(opens a new searcher) {1000 * (time.perf_counter() - start):.0f} ms"
        )
        store.forget_searchers()
        store.USE_MMAP = True
        search_index(store.PUBLIC, "frontera", "es", {}, 1, 20)
        mmap_ms = []
        for q, f in queries["2-term"]:
            start = time.perf_counter()
            search_index(store.PUBLIC, q, "es", f, 1, 20)
            mmap_ms.append((time.perf_counter() - start) * 1000)
        print(
            f"2-term with mmap on (comparison): "
            f"p50 {percentile(mmap_ms, 50):.1f} p95 {percentile(mmap_ms, 95):.1f}"
        )
        store.forget_searchers()
    conn.close()
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
