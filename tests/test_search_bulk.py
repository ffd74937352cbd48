"""The bulk rebuild (``search.whoosh_internals.bulk``): the same index as Whoosh's own writer, in one
process or in workers, and a failed worker that leaves the indexes in use untouched."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from nuevonorte import search
from nuevonorte.extensions import db
from nuevonorte.models import Story
from nuevonorte.search import health, store
from nuevonorte.search.schema import LANGUAGES, stem
from nuevonorte.search.whoosh_internals import bulk
from tests.search_fixtures import public_lexicon, public_sids

pytestmark = pytest.mark.usefixtures("index")

WORDS = "frontera familia deportados regreso trabajo madre hijos ciudad desierto río papeles".split()


def synthetic_docs(n: int) -> list[dict[str, Any]]:
    """Staff-index documents with varied lengths, repeated words and an empty field."""
    rng = random.Random(5)
    docs = []
    for i in range(n):
        words = rng.choices(WORDS + [f"palabra{j}" for j in range(40)], k=rng.randint(1, 120))
        docs.append(
            {
                "sid": str(i),
                "pid": f"p{i}",
                "head_es": " ".join(words[:6]),
                "head_en": "",
                "text_es": " ".join(words),
                "text_en": "border family" if i % 3 else "",
                "body": " ".join(words),
                "theme": rng.choice(["familia", "trabajo"]),
                "status": "published",
            }
        )
    return docs


def index_contents(folder: Path) -> dict[str, Any]:
    """Everything a search reads: every field's postings with weights and positions, the
    terms' length statistics, every document's field lengths and stored fields."""
    ix = whoosh_index.open_dir(str(folder))
    out: dict[str, Any] = {}
    with ix.reader() as r:
        for name in ix.schema.names():
            if not ix.schema[name].indexed:
                continue
            for term in r.lexicon(name):
                info = r.term_info(name, term)
                m = r.postings(name, term)
                postings = []
                while m.is_active():
                    postings.append((m.id(), m.weight(), m.value()))
                    m.next()
                out[f"{name}:{term!r}"] = (info.min_length(), info.max_length(), postings)
            out[f"lengths:{name}"] = [r.doc_field_length(d, name) for d in range(r.doc_count_all())]
        out["stored"] = list(r.all_stored_fields())
    return out


def test_bulk_writer_writes_what_whoosh_writes_even_when_postings_spill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batched runs and in-memory lengths change nothing in the index: the same postings,
    positions, length statistics and stored fields as Whoosh's own writer, with postings
    spilled to dozens of runs on disk (a tiny memory limit) as a large rebuild does."""
    docs = synthetic_docs(400)
    built = {}
    for name, make in {
        "whoosh": lambda ix: SegmentWriter(ix),
        "bulk": lambda ix: bulk.BulkWriter(ix, limitmb=0.02),
    }.items():
        build = store.new_build(tmp_path / name)
        w = make(whoosh_index.open_dir(str(build / store.STAFF)))
        runs = []
        if name == "bulk":
            original = w.pool._write_run
            monkeypatch.setattr(w.pool, "_write_run", lambda f, items: (runs.append(1), original(f, items)))
        for doc in docs:
            w.add_document(**doc)
        w.commit(optimize=True)
        if name == "bulk":
            assert len(runs) > 20
        built[name] = index_contents(build / store.STAFF)
    assert len(built["whoosh"]) > 100
    assert built["bulk"] == built["whoosh"]


@pytest.mark.parametrize("workers", [False, True], ids=["one-process", "workers"])
def test_shared_analysis_never_brings_withheld_text_into_the_public_index(
    monkeypatch: pytest.MonkeyPatch, make_story: Callable[..., Story], workers: bool
) -> None:
    """A rebuild writes each story's public then staff document in one process, reusing the
    analysis of identical text; a withheld paragraph (in the staff document only) must still
    stay out of the public index, and be found by curators."""
    if workers:
        monkeypatch.setattr(bulk, "PARALLEL_FROM", 1)
    stories = [
        make_story(title=f"Relato {i}", body=f"Cruzamos por Nogales.\n\nEl xilofonista {i} cantaba.")
        for i in range(4)
    ]
    for story in stories:
        story.restricted_paragraphs = "1"
    db.session.commit()
    assert search.rebuild() == (4, 4)
    assert public_sids() == {str(s.id) for s in stories}
    lexicon = public_lexicon()
    assert {stem("xilofonista", lang) for lang in LANGUAGES}.isdisjoint(lexicon)
    assert stem("nogales", "es") in lexicon
    assert search.search_public("xilofonista", "es").total == 0
    assert search.search_public("nogales", "es").total == 4
    assert search.search_staff("xilofonista").total == 4


def test_progress_from_workers_adds_up(
    monkeypatch: pytest.MonkeyPatch, make_story: Callable[..., Story]
) -> None:
    """``nuevonorte reindex``'s progress bar counts every story once, whichever worker wrote it."""
    monkeypatch.setattr(bulk, "PARALLEL_FROM", 1)
    monkeypatch.setattr(bulk, "PROGRESS_EVERY", 2)
    for i in range(7):
        make_story(title=f"Relato {i}")
    reported: list[int] = []
    assert search.rebuild(progress=reported.append) == (7, 7)
    assert sum(reported) == 7 and len(reported) >= 3


@pytest.mark.parametrize("fault", ["exception", "killed"])
def test_a_failed_worker_fails_the_rebuild_and_the_indexes_in_use_stay(
    app: Flask,
    runner: FlaskCliRunner,
    monkeypatch: pytest.MonkeyPatch,
    make_story: Callable[..., Story],
    fault: str,
) -> None:
    """One worker raising, or dying without a word (killed, out of memory): the rebuild
    fails with a clear message, nothing is swapped in, and search answers as before."""
    stories = [make_story(title=f"Relato {i}", body="Relato de Ojinaga.") for i in range(6)]
    before = os.readlink(store.index_path(store.PUBLIC))
    builds = sorted((Path(app.config["INDEX_DIR"]) / "builds").iterdir())
    monkeypatch.setattr(bulk, "PARALLEL_FROM", 1)
    real = health.staff_document
    victim = stories[-1].id

    def staff_document(story: Story) -> Any:
        if story.id == victim:
            if fault == "killed":
                os._exit(9)
            raise ValueError("a story the worker cannot read")
        return real(story)

    monkeypatch.setattr(health, "staff_document", staff_document)
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 1
    assert "The rebuild failed; the indexes in use are unchanged." in result.output
    assert ("exit code 9" if fault == "killed" else "a story the worker cannot read") in result.output
    assert os.readlink(store.index_path(store.PUBLIC)) == before
    assert sorted((Path(app.config["INDEX_DIR"]) / "builds").iterdir()) == builds  # the failed one is gone
    assert not health.sync.rebuilding()
    assert search.search_public("ojinaga", "es").total == 6


def test_shared_text_gives_every_value_its_own_postings() -> None:
    """The reused analysis is keyed by the whole value: a different text of the same length
    right after never gets the earlier text's words; the same text in the staff schema does
    get the same postings."""
    from nuevonorte.search.schema import public_schema, staff_schema

    public, staff = public_schema()["text_es"], staff_schema()["text_es"]
    withheld, shown = "El xilofonista cantaba.", "El saxofonista cantaba."
    assert len(withheld) == len(shown)
    staff_postings = staff.index(withheld)
    public_postings = public.index(shown)
    words = {term.decode() for term, *_ in public_postings}
    assert stem("saxofonista", "es") in words and stem("xilofonista", "es") not in words
    assert public.index(withheld) == staff_postings


@pytest.mark.timeout(60)
def test_one_failed_worker_stops_the_others(
    monkeypatch: pytest.MonkeyPatch, make_story: Callable[..., Story]
) -> None:
    """The rebuild fails as soon as one worker fails; it does not wait for the others to
    finish their shards (here one would take two minutes: the test would time out)."""
    import time

    stories = [make_story(title=f"Relato {i}") for i in range(6)]
    monkeypatch.setattr(bulk, "PARALLEL_FROM", 1)
    real = health.staff_document
    slow, victim = stories[0].id, stories[-1].id

    def staff_document(story: Story) -> Any:
        if story.id == slow:
            time.sleep(120)
        if story.id == victim:
            raise ValueError("a story the worker cannot read")
        return real(story)

    monkeypatch.setattr(health, "staff_document", staff_document)
    with pytest.raises(search.RebuildFailed, match="a story the worker cannot read"):
        search.rebuild()
    assert search.search_public("relato", "es").total == 6
