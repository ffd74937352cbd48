"""Index faults (docs/security.md F05–F09): deleted, truncated, garbage, killed writer, two writers;
and the search log that keeps every index update until this index has applied it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from nuevonorte import search, stories
from nuevonorte.extensions import db
from nuevonorte.models import Story, StoryStatus
from nuevonorte.search import follow, store
from nuevonorte.search.whoosh_internals import bulk, segments
from tests.search_fixtures import public_sids

pytestmark = pytest.mark.usefixtures("index")
PROJECT = Path(__file__).resolve().parent.parent


def waiting() -> int:
    """Search-log entries this index has not applied yet."""
    db.session.commit()  # end the read snapshot: other sessions and processes wrote since
    return follow.behind()


def found(q: str) -> set[str]:
    return {h.public_id for h in search.search_public(q, "es").hits}


def run_helper(app_config: dict[str, Any], body: str) -> subprocess.Popen[str]:
    """Start another process with the same archive configuration running ``body``."""
    script = textwrap.dedent(
        """
        import json, os, sys, time
        from nuevonorte import create_app
        from nuevonorte.search import follow, store
        from nuevonorte.search.whoosh_internals import bulk
        app = create_app(json.loads(os.environ["HELPER_CONFIG"]))
        with app.app_context():
        """
    ) + textwrap.indent(textwrap.dedent(body), "    ")
    env = {**os.environ, "HELPER_CONFIG": json.dumps(app_config)}
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize("damage", ["deleted", "toc-deleted", "truncated-seg", "garbage"])
def test_f07_damaged_index_gives_503_and_reindex_repairs(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    make_story: Callable[..., Story],
    damage: str,
) -> None:
    """F07: search says "temporarily unavailable" in the visitor's language; other pages work;
    ``nuevonorte reindex`` recreates it from the database; parity ids(index) == ids(public)."""
    story = make_story(title="Nogales", body="Cruzamos por Nogales en 1998.")
    assert client.get("/es/search?q=nogales").status_code == 200
    real = store.index_path(store.PUBLIC).resolve()
    if damage == "deleted":
        import shutil

        shutil.rmtree(Path(app.config["INDEX_DIR"]))
    elif damage == "toc-deleted":
        for toc in real.glob("_MAIN_*.toc"):
            toc.unlink()
    elif damage == "truncated-seg":
        for seg in real.glob("*.seg"):
            seg.write_bytes(seg.read_bytes()[:64])
        # A searcher opened before the damage may still answer, correctly, from file data it
        # had already buffered (the whole segment of a tiny index fits in one read buffer), or
        # fail and say so; never an error page. Whoever opens the damaged index must say
        # "unavailable": forget this worker's searcher, as a restarted worker would have none.
        assert client.get("/es/search?q=nogales").status_code in (200, 503)
        store.forget_searchers()
    else:
        for path in real.iterdir():
            path.write_bytes(os.urandom(2048))
        (real / "garbage.bin").write_bytes(os.urandom(4096))
    response = client.get("/es/search?q=nogales")
    assert response.status_code == 503
    assert "La búsqueda no está disponible por el momento" in response.get_data(as_text=True)
    english = client.get("/en/search?q=nogales")
    assert english.status_code == 503 and "Search is temporarily unavailable" in english.get_data(
        as_text=True
    )
    assert client.get("/api/v1/search?q=nogales").status_code == 503
    assert client.get("/es/").status_code == 200
    assert client.get(f"/es/stories/{story.public_id}").status_code == 200
    # A change committed while the index is broken is kept in the search log, not lost.
    story.title_en = "Nogales crossing"
    db.session.commit()
    assert waiting() >= 1
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt the search indexes: 1 public" in result.output
    assert public_sids() == {str(story.id)}
    assert story.public_id in found("crossing")
    assert waiting() == 0


def test_f06_writer_killed_during_commit_is_repaired(
    app: Flask, app_config: dict[str, Any], make_story: Callable[..., Story]
) -> None:
    """F06: a worker SIGKILLed while writing the index (segment written, TOC not) leaves the
    index readable and the change in the search log; the next write applies it."""
    make_story(title="Antes", body="Un relato anterior de Mexicali.")
    helper = run_helper(
        app_config,
        """
        import signal
        from whoosh.index import TOC
        from nuevonorte import stories
        from nuevonorte.extensions import db
        from nuevonorte.models import Story
        def die(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)
        TOC.write = die  # the moment between writing the segment and publishing it
        story = db.session.scalar(db.select(Story))
        story.title_en = "Killed while indexing"
        db.session.commit()
        """,
    )
    helper.communicate(timeout=60)
    assert helper.returncode == -signal.SIGKILL
    db.session.expire_all()
    assert waiting() == 1
    assert found("killed") == set()  # index still opens; the change is not there yet
    other = make_story(title="Después", body="Otro relato de Ensenada.")  # the next write repairs
    assert waiting() == 0
    assert len(found("killed")) == 1 and other.public_id in found("ensenada")


def test_f05_two_writers_no_lock_error(
    app: Flask, app_config: dict[str, Any], make_story: Callable[..., Story]
) -> None:
    """F05: another process holds the index writer lock; a commit here waits for it, and no
    LockError ever reaches the caller."""
    helper = run_helper(
        app_config,
        """
        with store.writer(store.PUBLIC):
            print("locked", flush=True)
            time.sleep(1.5)
        """,
    )
    assert helper.stdout is not None and helper.stdout.readline().strip() == "locked"
    story = make_story(title="Dos escritores", body="Relato de Reynosa.")
    helper.communicate(timeout=60)
    assert helper.returncode == 0
    assert story.public_id in found("reynosa")
    assert waiting() == 0


def test_f05_lock_held_too_long_waits_in_the_search_log(
    app: Flask, app_config: dict[str, Any], make_story: Callable[..., Story], monkeypatch: pytest.MonkeyPatch
) -> None:
    """F05/F06: when the lock stays held beyond the retries, the commit still succeeds, the
    update waits in the search log, and the next write (after the lock is free) applies it."""
    monkeypatch.setattr(store, "WRITER_TIMEOUT_S", 0.2)
    helper = run_helper(
        app_config,
        """
        with store.writer(store.PUBLIC):
            print("locked", flush=True)
            sys.stdin.readline() if False else time.sleep(4)
        """,
    )
    assert helper.stdout is not None and helper.stdout.readline().strip() == "locked"
    first = make_story(title="Primero", body="Relato de Matamoros.")
    assert waiting() >= 1
    helper.communicate(timeout=60)
    second = make_story(title="Segundo", body="Relato de Matamoros también.")
    assert found("matamoros") == {first.public_id, second.public_id}
    assert waiting() == 0


def test_f09_check_command_reports_p0_and_repairs(
    runner: FlaskCliRunner, make_story: Callable[..., Story]
) -> None:
    """F09 through the CLI: ``nuevonorte check`` exits 1, names the P0 and removes it."""
    story = make_story(body="Relato de Chihuahua.")
    doc = search.search_public("chihuahua", "es")
    assert doc.total == 1
    from nuevonorte.search.documents import public_document

    public = public_document(story)
    assert public is not None
    stories.unpublish(story, None)
    db.session.commit()
    store.write_public([public], [])  # drift: the index holds what is no longer public
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert f"P0 public-index-not-public: story id {story.id}" in result.output
    assert found("chihuahua") == set()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output


def test_reindex_keeps_search_working_and_shows_progress(
    app: Flask, runner: FlaskCliRunner, make_story: Callable[..., Story]
) -> None:
    """The rebuild writes a new folder and swaps it in: searches during it use the old one."""
    story = make_story(title="Piedras Negras", body="Relato de Piedras Negras.")
    seen_during: list[set[str]] = []

    def progress(n: int) -> None:
        seen_during.append(found("piedras"))

    search.rebuild(progress=progress)
    assert seen_during == [{story.public_id}]
    assert found("piedras") == {story.public_id}
    assert store.index_path(store.PUBLIC).is_symlink()
    result = runner.invoke(args=["reindex"])
    assert "Indexing stories" in result.output and result.exit_code == 0
    builds = list((Path(app.config["INDEX_DIR"]) / "builds").iterdir())
    assert len(builds) == 1  # no earlier build is kept (T02)


def test_reindex_due_for_cron(runner: FlaskCliRunner, make_story: Callable[..., Story]) -> None:
    from datetime import date, timedelta

    from freezegun import freeze_time

    from nuevonorte.consent import ConsentChoices

    lift = date.today() + timedelta(days=3)
    story = make_story(
        choices=ConsentChoices(credit_name="Ana", embargo_until=lift), body="Relato de Agua Prieta."
    )
    assert found("agua prieta") == set()
    with freeze_time(lift):
        result = runner.invoke(args=["reindex", "--due"])
        assert "Indexed 1 stories whose embargo lifted" in result.output
        assert found("agua prieta") == {story.public_id}


def test_rejected_after_publish_and_status_facet_for_staff(make_story: Callable[..., Story]) -> None:
    """search_staff sees every state but withdrawn, with a status facet and filter."""
    make_story(status=StoryStatus.SUBMITTED, body="Relato de Tecate enviado.")
    make_story(status=StoryStatus.PRIVATE, body="Relato de Tecate privado.")
    make_story(body="Relato de Tecate público.")
    results = search.search_staff("tecate")
    assert results.total == 3
    assert dict(results.facets["status"]) == {"submitted": 1, "private": 1, "published": 1}
    assert search.search_staff("tecate", filters={"status": "private"}).total == 1
    assert search.search_public("tecate", "es").total == 1


def test_index_with_an_older_schema_says_unavailable_until_reindexed(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, make_story: Callable[..., Story]
) -> None:
    """An index built by an earlier version (other fields, no schema marker) is never searched
    with today's field names: search gives the localized 503, ``check`` says to reindex,
    ``setup`` would rebuild it (``index_exists`` is False), and ``reindex`` repairs it."""
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, TEXT, Schema

    story = make_story(title="Ojinaga", body="Cruzamos por Ojinaga.")
    root = Path(app.config["INDEX_DIR"])
    old = root / "builds" / "0-old"
    for kind in store.KINDS:
        (old / kind).mkdir(parents=True)
        ix = whoosh_index.create_in(str(old / kind), Schema(sid=ID(unique=True, stored=True), body_es=TEXT))
        with ix.writer() as w:
            w.add_document(sid=str(story.id), body_es="Cruzamos por Ojinaga.")
        link = store.index_path(kind)
        link.unlink()
        link.symlink_to(Path("builds") / "0-old" / kind)
    store.forget_searchers()
    assert not search.index_exists()
    response = client.get("/es/search?q=ojinaga")
    assert response.status_code == 503
    assert "La búsqueda no está disponible por el momento" in response.get_data(as_text=True)
    assert client.get("/api/v1/search?q=ojinaga").status_code == 503
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1 and "nuevonorte reindex" in result.output, result.output
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert search.index_exists()
    assert found("ojinaga") == {story.public_id}


def test_parallel_rebuild_finds_every_story(
    monkeypatch: pytest.MonkeyPatch, make_story: Callable[..., Story]
) -> None:
    """Large archives rebuild in worker processes (one segment each); the result is searched
    and checked like a one-process build (the threshold is lowered to run it here)."""
    made = [make_story(title=f"Relato {i}", body=f"Cruzamos por Sásabe, historia {i}.") for i in range(6)]
    monkeypatch.setattr(bulk, "PARALLEL_FROM", 1)
    assert bulk.rebuild_procs(6) == min(2, os.cpu_count() or 1)
    assert search.rebuild() == (6, 6)
    assert found("sasabe") == {s.public_id for s in made}
    assert search.search_public("sásabe", "es").total == 6
    assert public_sids() == {str(s.id) for s in made}


@pytest.fixture
def commit_in_between(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any, str], list[int]]:
    """Let another writer commit right after ``owner.name`` first returns, the worst moment
    for a reader: the commit deletes the table of contents that was just listed."""

    def arrange(owner: Any, name: str) -> list[int]:
        real = getattr(owner, name)
        commits: list[int] = []

        def listed_then_commit(*args: Any) -> Any:
            result = real(*args)
            if not commits:
                commits.append(1)
                with store.writer(store.PUBLIC):
                    pass
            return result

        monkeypatch.setattr(owner, name, listed_then_commit)
        return commits

    return arrange


def test_f05_a_commit_between_listing_and_opening_is_not_an_error(
    make_story: Callable[..., Story], commit_in_between: Callable[[Any, str], list[int]]
) -> None:
    """Whoosh deletes the previous generation's files at every commit. A search that listed
    the folder just before another process committed opens the new generation instead of
    answering "temporarily unavailable"."""
    from whoosh.index import TOC

    story = make_story(title="Mexicali", body="Relato de Mexicali.")
    store.forget_searchers()
    before = store.open_index(store.PUBLIC).latest_generation()
    commits = commit_in_between(TOC, "_latest_generation")
    assert found("mexicali") == {story.public_id}
    assert commits and store.open_index(store.PUBLIC).latest_generation() == before + 1


def test_f05_a_commit_between_listing_and_checking_the_searcher_is_not_an_error(
    make_story: Callable[..., Story], commit_in_between: Callable[[Any, str], list[int]]
) -> None:
    """The cached searcher is checked against the newest table of contents; one deleted by a
    commit after it was listed is not a missing index."""
    story = make_story(title="Agua Prieta", body="Relato de Agua Prieta.")
    commits = commit_in_between(segments, "latest_toc")
    assert found("prieta") == {story.public_id}
    assert commits
