"""What a change after publication removes leaves the index FILES at once, every build included
(docs/security.md T01, T02, T03, T09, F09). The raw bytes under INDEX_DIR are read: a word
counts as gone only when no file holds it, not when search stops returning it."""

from __future__ import annotations

import random
import signal
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from nuevonorte import search, stories, transcripts
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Credit, Story, Visibility
from nuevonorte.search import rebuild_lock, store, sync
from nuevonorte.search.whoosh_internals import postings_cache
from tests import index_bytes
from tests.curate_fixtures import add_audio
from tests.search_fixtures import PausedRebuild, add_transcribed_audio
from tests.stopped_process import stopped_at

pytestmark = pytest.mark.usefixtures("index")


def files_holding(app: Flask, word: str) -> list[str]:
    """Every file under INDEX_DIR that holds ``word`` (see ``tests.index_bytes``)."""
    return index_bytes.files_holding(Path(app.config["INDEX_DIR"]), word)


def public_files_holding(app: Flask, word: str) -> list[str]:
    """The files of every build's PUBLIC index that hold ``word`` (the staff index keeps
    withheld passages on purpose: curators read them)."""
    builds = Path(app.config["INDEX_DIR"]) / "builds"
    return [
        f for build in sorted(builds.iterdir()) for f in index_bytes.files_holding(build / "public", word)
    ]


def found(word: str) -> set[str]:
    return {hit.public_id for hit in search.search_public(word, "es").hits}


def test_the_raw_scan_sees_stored_words(app: Flask, make_story: Callable[..., Story]) -> None:
    """The scan is not vacuous: a published story's words are in the files as written."""
    make_story(body="Relato de tlacotalpan.")
    assert files_holding(app, "tlacotalpan")


def test_withheld_paragraph_leaves_the_index_files_T01(app: Flask, make_story: Callable[..., Story]) -> None:
    story = make_story(body="Llegamos al norte.\n\nMi tía vive en zapotlanejo.")
    assert public_files_holding(app, "zapotlanejo") and found("norte") == {story.public_id}
    story.restricted_paragraphs = "1"
    db.session.commit()
    assert public_files_holding(app, "zapotlanejo") == []
    assert found("norte") == {story.public_id}  # the rest stays public


def test_withheld_cue_leaves_the_index_files_T01(app: Flask, make_story: Callable[..., Story]) -> None:
    story = make_story(body="Relato con grabación.")
    media = add_transcribed_audio(story, [(0, "Saludos a todos.", False), (4000, "Vivo en cuitzeo.", False)])
    assert public_files_holding(app, "cuitzeo")
    media.transcript.cues[1].restricted = True
    db.session.commit()
    assert public_files_holding(app, "cuitzeo") == []


def test_name_made_anonymous_leaves_the_index_files_T01(app: Flask, make_story: Callable[..., Story]) -> None:
    choices = ConsentChoices(credit=Credit.NAME, credit_name="Eufrosina Quetzalli")
    story = make_story(choices=choices, body="Relato firmado.")
    assert public_files_holding(app, "Quetzalli")
    stories.change_consent(story, replace(choices, credit=Credit.ANONYMOUS, credit_name=""), language="es")
    db.session.commit()
    assert public_files_holding(app, "Quetzalli") == []


def test_a_withdrawn_recording_leaves_every_index_file_T01_C11(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    """The contributor withdraws only the recording: its transcript leaves the staff index's
    files too, not only the public one's (found by the lifecycle test)."""
    story = make_story(body="Relato con grabación.")
    media = add_audio(story)
    transcripts.set_cues(media, transcripts.parse("Saludos desde xochistlahuaca."), "es", None)  # type: ignore[arg-type]
    db.session.commit()
    assert files_holding(app, "xochistlahuaca")
    stories.withdraw_media(story, media)
    db.session.commit()
    assert files_holding(app, "xochistlahuaca") == []
    assert found("grabación") == {story.public_id}  # the story itself stays


def test_facets_of_a_new_build_are_its_own_even_with_repeated_segment_ids(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    """Whoosh names segments with ``random``; when two builds draw the same names (anything may
    seed ``random``: hypothesis does), facet tables cached for one must not serve the other."""
    make_story(body="Relato uno de mazatlán.", language="es")
    make_story(body="Story two from mazatlán.", language="en")
    random.seed(20261204)
    search.rebuild()
    assert dict(search.search_public("mazatlán", "es").facets["language"]) == {"en": 1, "es": 1}
    stories.withdraw(db.session.scalars(select(Story).where(Story.original_language == "en")).one())
    db.session.commit()
    random.seed(20261204)
    search.rebuild()
    assert dict(search.search_public("mazatlán", "es").facets["language"]) == {"es": 1}


def test_no_build_holds_a_story_withdrawn_after_a_rebuild_T02(
    app: Flask, runner: FlaskCliRunner, make_story: Callable[..., Story]
) -> None:
    story = make_story(body="Relato de huejutla.")
    search.rebuild()
    assert runner.invoke(args=["reindex"]).exit_code == 0
    assert len(list((Path(app.config["INDEX_DIR"]) / "builds").iterdir())) == 1
    stories.withdraw(story)
    db.session.commit()
    assert files_holding(app, "huejutla") == []


def test_withdrawn_during_a_rebuild_is_gone_at_once_and_stays_gone_T03(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    story = make_story(body="Relato de tepatitlan.")
    other = make_story(body="Otro relato.")
    rebuild = PausedRebuild(app).start()
    try:
        assert sync.rebuilding()
        stories.withdraw(story)
        db.session.commit()
        assert found("tepatitlan") == set()  # at once, while the rebuild still runs
        assert index_bytes.files_holding(store.index_path(store.PUBLIC).resolve(), "tepatitlan") == []
    finally:
        rebuild.finish()
    assert not rebuild.errors
    assert found("tepatitlan") == set()
    assert files_holding(app, "tepatitlan") == []  # the swapped-in build did not bring it back
    assert found("relato") == {other.public_id}


def test_a_page_of_hits_is_rechecked_against_the_database_F09(
    app: Flask, make_story: Callable[..., Story], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the index lags (its commit failed; the change waits in the search log), search shows
    less, never more."""
    story = make_story(body="Relato de sahuayo.")
    monkeypatch.setattr(sync, "index_stories", lambda *a, **k: (_ for _ in ()).throw(OSError("disk")))
    stories.change_consent(story, ConsentChoices(visibility=Visibility.CURATORS), language="es")
    db.session.commit()
    assert str(story.id) in store.indexed_sids(store.PUBLIC)  # the index still holds it...
    results = search.search_public("sahuayo", "es")
    assert results.hits == [] and results.total == 0  # ...and nobody sees it
    monkeypatch.undo()
    assert sync.apply_log() >= 1  # the next write heals the files
    assert public_files_holding(app, "sahuayo") == []


def test_check_reports_and_repairs_stray_builds_and_unpurged_files_F09(
    app: Flask, runner: FlaskCliRunner, make_story: Callable[..., Story]
) -> None:
    make_story(body="Relato de ocotlan.")
    stray = Path(app.config["INDEX_DIR"]) / "builds" / "1-999999"
    stray.mkdir()
    (stray / "leftover").write_text("ocotlan")
    # A deletion committed without a purge, as an older version left them (the raw Whoosh API).
    w = store.open_index(store.PUBLIC).writer()
    w.delete_by_term("sid", next(iter(store.indexed_sids(store.PUBLIC))))
    w.commit(merge=False)
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "P0 index-stray-build: builds/1-999999" in result.output
    assert "P0 public-index-unpurged" in result.output
    assert not stray.exists() and not store.pending_purge(store.PUBLIC)
    assert runner.invoke(args=["check"]).exit_code == 0


# --- a real `reindex` process killed with SIGKILL (T09) -------------------------------------

REINDEX = """
import json, os, sys
from nuevonorte import create_app
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
result = app.test_cli_runner().invoke(args=["reindex"])
sys.exit(result.exit_code)
"""


def _stopped_reindex(app_config: dict[str, Any], point: str) -> subprocess.Popen[bytes]:
    return stopped_at(REINDEX, app_config, point, timeout=60)


@pytest.mark.parametrize("point", ["rebuild.locked", "rebuild.filled"])
def test_a_killed_reindex_parks_nothing_and_leaves_nothing_T09(
    app: Flask,
    app_config: dict[str, Any],
    runner: FlaskCliRunner,
    make_story: Callable[..., Story],
    point: str,
) -> None:
    old = make_story(body="Relato de zacatlan.")
    proc = _stopped_reindex(app_config, point)
    assert sync.rebuilding()  # while it lives, it holds the lock
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert not sync.rebuilding()  # the kernel released it with the process
    builds = Path(app.config["INDEX_DIR"]) / "builds"
    if point == "rebuild.filled":
        assert len(list(builds.iterdir())) == 2  # the dead rebuild's half-written build
    stories.withdraw(old)
    fresh = make_story(body="Relato de chignahuapan.")  # the next write applies at once...
    assert found("zacatlan") == set()
    assert found("chignahuapan") == {fresh.public_id}
    assert len(list(builds.iterdir())) == 1  # ...and removes what the dead rebuild left
    assert files_holding(app, "zacatlan") == []
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert rebuild_lock.marker().exists()  # the lock file stays; only its lock says "running"


def test_the_last_storys_words_leave_the_postings_cache_with_it_T01_T19(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    """An index left with no segment at all (its only story withdrawn) keeps nothing either
    (found by the lifecycle walk: entries were dropped only for folders that still had segments)."""
    story = make_story(body="Relato de tlacotalpan.")
    assert found("tlacotalpan") == {story.public_id}
    folder = str(Path(app.config["INDEX_DIR"]).resolve())
    assert [key for key in postings_cache.terms_under(folder) if key[1] == "tlacotalp"]
    stories.withdraw(story)
    db.session.commit()
    assert found("tlacotalpan") == set()
    assert [key for key in postings_cache.terms_under(folder) if key[1] == "tlacotalp"] == []


def test_a_withdrawn_storys_words_leave_the_workers_postings_cache_T01_T19(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    """Decoded postings are kept per worker by segment (``postings_cache``); the purge after a
    withdrawal rewrites the segment, and the next searcher drops what the old one held."""
    story = make_story(body="Relato de tlacotalpan y del río.")
    make_story(body="Otro relato del río.")
    assert found("tlacotalpan") == {story.public_id}
    folder = str(Path(app.config["INDEX_DIR"]).resolve())

    def kept(word: str) -> list[tuple[str, Any]]:
        return [key for key in postings_cache.terms_under(folder) if key[1] == word]

    assert kept("tlacotalp")  # the word's Spanish form, read once and kept
    stories.withdraw(story)
    db.session.commit()
    assert found("tlacotalpan") == set() and found("río")
    assert kept("tlacotalp") == []
