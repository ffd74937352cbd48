"""A web worker decodes each segment's heaviest postings before visitors ask (``search.warmup``).

On a real Whoosh index written with the archive's codec: what the warm-up keeps is what a search
would decode, heaviest first within the budget; a search after it decodes nothing more; and a
withdrawn story's words never come back into the cache through it, even from a pass that raced
the purge (T19).
"""

from __future__ import annotations

import random
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask

from nuevonorte import search, stories
from nuevonorte.extensions import db
from nuevonorte.models import Story
from nuevonorte.search import store, warmup
from nuevonorte.search.schema import QUERY_FIELDS
from nuevonorte.search.whoosh_internals import postings_cache, warm
from nuevonorte.search.whoosh_internals.codec import ArchiveCodec
from nuevonorte.search.whoosh_internals.matching import Matcher, Search
from tests.test_search_matching import STOPS, WORDS, form, phrase_query, whoosh_docs, write


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    postings_cache.clear()
    warm.forget()
    yield
    postings_cache.clear()
    warm.forget()


def texts(count: int) -> list[str]:
    rng = random.Random(5)
    # "madre" and "tren" twice in WORDS: the heaviest; "desierto" in a few documents only.
    out = [" ".join(rng.choices([*WORDS, *STOPS], k=rng.randint(3, 20))) for _ in range(count)]
    return [f"{text} desierto" if n % 97 == 0 else text for n, text in enumerate(out)]


def kept_terms(folder: Path) -> set[str]:
    kept = postings_cache.terms_under(str(folder.resolve()))
    return {text for fieldname, text in kept if fieldname == "text"}


def test_the_warmup_keeps_each_segments_heaviest_terms_as_a_search_decodes_them(tmp_path: Path) -> None:
    ix = write(tmp_path, texts(900), segments=3, deleted=set(range(0, 900, 13)))
    with ix.searcher() as s:
        # Budget for about the two heaviest terms of each segment.
        per_segment = [warm.heaviest(sub, ["text"], 10**9) for sub, _ in Matcher.of(s).segments]
        assert all(order[0][1] in (form("madre"), form("tren")) for order in per_segment)
        assert all(order[-1][1] == form("desierto") for order in per_segment)  # the lightest
        budget = 0
        for (sub, _), order in zip(Matcher.of(s).segments, per_segment, strict=True):
            info = sub.reader().term_info("text", order[1][1])
            share = warm.POSTING_BYTES * info.doc_frequency() + warm.POSITION_BYTES * int(info.weight())
            budget = max(budget, 3 * share * s.doc_count_all() // sub.doc_count_all())
        assert warm.warm(s, ["text"], budget) > 0
        kept = kept_terms(tmp_path)
        assert {form("madre"), form("tren")} <= kept
        assert form("desierto") not in kept  # the lightest term was left for visitors
        warmed = {key: entry for key, entry in postings_cache._entries.items()}
        postings_cache.clear()
        search = Search(s)
        for (segment, fieldname, text), entry in warmed.items():
            assert fieldname == "text"
            search.positions(fieldname, text)  # decoded cold, as a visitor's search would
            cold = postings_cache.get((segment, fieldname, text))
            assert cold is not None and len(cold) == len(entry) == 4
            for a, b in zip(entry, cold, strict=True):
                np.testing.assert_array_equal(a, b)


def test_a_search_after_the_warmup_decodes_nothing_and_finds_what_whoosh_finds(tmp_path: Path) -> None:
    ix = write(tmp_path, texts(700), segments=4, deleted=set(range(3, 700, 11)))
    with ix.searcher() as s:
        warm.warm(s, ["text"], 8 * 1024 * 1024)
        before = postings_cache.stats()
        search = Search(s)
        for a, b in (("madre", "tren"), ("noche", "río"), ("casa", "fronteras")):
            query = phrase_query([a, b])
            assert query is not None
            assert set(np.flatnonzero(search.mask(query)).tolist()) == whoosh_docs(s, query)
        assert postings_cache.stats() == before  # every word came from the warm-up


def test_a_segment_is_warmed_once_and_a_new_one_when_it_comes(tmp_path: Path) -> None:
    ix = write(tmp_path, texts(300), segments=2, deleted=set())
    with ix.searcher() as s:
        assert warm.warm(s, ["text"], 8 * 1024 * 1024) > 0
        assert warm.warm(s, ["text"], 8 * 1024 * 1024) == 0  # nothing new
    w = ix.writer(codec=ArchiveCodec())
    w.add_document(sid="new", text="madre tren noche")
    w.commit(merge=False)
    with ix.searcher() as s:
        assert warm.warm(s, ["text"], 8 * 1024 * 1024) == 3  # the new segment's three words


def test_a_withdrawn_storys_words_never_return_through_the_warmup_T01_T19(
    app: Flask, index: Any, make_story: Callable[..., Story]
) -> None:
    story = make_story(body="Relato de tlacotalpan y del río.")
    make_story(body="Otro relato del río.")
    root = Path(app.config["INDEX_DIR"])
    builds = root / "builds"
    warmer = warmup.Warmer(root, 8 * 1024 * 1024)
    assert warmer.warm_now()
    assert "tlacotalp" in {text for _, text in postings_cache.terms_under(str(builds.resolve()))}
    stale = store.open_searcher(store.PUBLIC, root)  # a pass that began before the withdrawal
    try:
        stories.withdraw(story)
        db.session.commit()
        warm.forget()
        warm.warm(stale, QUERY_FIELDS, 8 * 1024 * 1024)  # ...and decoded after the purge
    finally:
        store.close_quietly(stale)
    # A segment whose file the purge replaced has no name in the cache: nothing of it is kept.
    assert "tlacotalp" not in {text for _, text in postings_cache.terms_under(str(builds.resolve()))}
    assert warmer.warm_now()  # the index moved on: opened again, the old segments' entries dropped
    assert "tlacotalp" not in {text for _, text in postings_cache.terms_under(str(builds.resolve()))}
    assert {hit.public_id for hit in search.search_public("tlacotalpan", "es").hits} == set()
    assert search.search_public("río", "es").hits


def test_a_gunicorn_worker_warms_the_public_index_when_it_starts(
    app_config: dict[str, Any], tmp_path: Path, index: Any, make_story: Callable[..., Story]
) -> None:
    """The hook is ours (``gunicorn_config.post_worker_init``): a real gunicorn runs it."""
    from tests.test_crash_recovery import Server

    story = make_story(body="Relato de tlacotalpan y del río.")
    public_id = story.public_id
    db.session.remove()
    server = Server(app_config, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while "Search warm-up:" not in server.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, server.log.read_text()[-3000:]
            time.sleep(0.1)
        with urllib.request.urlopen(server.url("/es/search?q=tlacotalpan"), timeout=30) as answer:
            assert public_id in answer.read().decode()
    finally:
        server.stop()
