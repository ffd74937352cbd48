"""Several machines over one database, each with its own index folder, following the search log
(issue 21, decision 0026): a change made through one machine reaches the other's index when it
follows; a withdrawal is gone from every machine's results at once (they are re-checked against
the database) and from its index files when it follows; entries a killed process left unnumbered
are numbered by whoever follows next; a rebuild starts from the number it read before filling;
a machine behind what the log still keeps rebuilds. Two real Whoosh indexes, one real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from nuevonorte import create_app, search, stories
from nuevonorte.extensions import db
from nuevonorte.jobs import worker
from nuevonorte.models import SearchLogEntry, SearchLogState, Story
from nuevonorte.models.base import utcnow
from nuevonorte.search import follow, store
from tests.index_bytes import files_holding
from tests.stopped_process import stopped_at

pytestmark = pytest.mark.usefixtures("index")
MakeStory = Callable[..., Story]


@pytest.fixture
def other(app_config: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """A second machine: the same database, an index folder of its own, built from it."""
    machine = create_app({**app_config, "index_dir": str(tmp_path / "machine-b" / "index")})
    with machine.app_context():
        search.rebuild()
        db.session.remove()
    store.forget_searchers()
    yield machine
    with machine.app_context():
        db.session.remove()
        db.engine.dispose()
    store.forget_searchers()


def found(machine: Flask, word: str) -> set[str]:
    with machine.app_context():
        hits = {h.public_id for h in search.search_public(word, "es").hits}
        db.session.remove()
    return hits


def indexed(machine: Flask) -> set[str]:
    with machine.app_context():
        return store.indexed_sids(store.PUBLIC)


def index_dir(machine: Flask) -> Path:
    return Path(machine.config["INDEX_DIR"])


def position_of(machine: Flask) -> int | None:
    with machine.app_context():
        return follow.position()


def numbered() -> int:
    db.session.rollback()
    return db.session.scalar(select(SearchLogState.numbered)) or 0


def test_a_change_through_one_machine_reaches_the_other_when_it_follows(
    app: Flask, other: Flask, make_story: MakeStory
) -> None:
    story = make_story(body="Crucé por Nogales con mi hermana zqfollowa.")
    assert story.public_id in found(app, "zqfollowa")  # the committing machine, at once
    assert str(story.id) not in indexed(other)
    assert worker.follow_tick(other) >= 1
    assert str(story.id) in indexed(other)
    assert story.public_id in found(other, "zqfollowa")
    assert position_of(other) == position_of(app) == numbered()
    assert worker.follow_tick(other) == 0  # nothing twice


def test_a_withdrawal_through_one_machine_is_gone_from_every_machine_T03_T21(
    app: Flask, other: Flask, make_story: MakeStory
) -> None:
    story = make_story(body="Mi mamá se quedó en Tapachula zqfollowb.")
    worker.follow_tick(other)
    assert story.public_id in found(other, "zqfollowb")
    with other.app_context():  # withdrawn through machine B
        mine = db.session.get(Story, story.id)
        assert mine is not None
        stories.withdraw(mine)
        db.session.commit()
        db.session.remove()
    assert files_holding(index_dir(other), "zqfollowb") == []
    # Machine A has not followed yet: its files still hold the words, but no result shows them
    # (every hit is re-checked against the database as it is read).
    assert files_holding(index_dir(app), "zqfollowb", purged=False)
    assert found(app, "zqfollowb") == set()
    assert worker.follow_tick(app) >= 1
    assert files_holding(index_dir(app), "zqfollowb") == []
    assert str(story.id) not in indexed(app)


def test_entries_a_killed_process_left_unnumbered_are_applied_by_every_machine_F01(
    app: Flask, app_config: dict[str, Any], other: Flask
) -> None:
    """Killed (SIGKILL) after its commit and before it numbered or applied anything."""
    publish = """
import json, os
from nuevonorte import create_app, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Visibility
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
with app.app_context():
    choices = ConsentChoices(credit_name="Ana", visibility=Visibility.PUBLIC)
    s = stories.submit(None, body="Llegué a Tijuana zqfollowc.", title="T", language="es",
                       choices=choices, consent_language="es")
    stories.publish(s, None)
    db.session.commit()
"""
    before = numbered()
    proc = stopped_at(publish, app_config, "commit.before_index")
    proc.kill()
    proc.wait()
    db.session.rollback()
    waiting = db.session.scalars(select(SearchLogEntry).where(SearchLogEntry.seq.is_(None))).all()
    assert waiting and numbered() == before  # committed, never numbered
    with other.app_context():
        assert follow.behind() >= 1
    worker.follow_tick(other)  # machine B numbers them and applies them
    assert numbered() > before
    assert found(other, "zqfollowc")
    assert worker.follow_tick(app) >= 1  # and machine A, from its own position
    assert found(app, "zqfollowc")


def test_a_process_killed_after_its_index_write_and_before_its_position_converges_F01(
    app: Flask, app_config: dict[str, Any], make_story: MakeStory
) -> None:
    """The entries applied but not recorded are applied again: writing an index entry twice
    leaves it once."""
    story = make_story(body="Regresé a Oaxaca zqfollowd.")
    store.write_public([], [str(story.id)])  # as if this machine had never applied its entries
    follow.set_position(index_dir(app), 0)
    assert found(app, "zqfollowd") == set()
    follow_once = """
import json, os
from nuevonorte import create_app
from nuevonorte.jobs import worker
worker.follow_tick(create_app(json.loads(os.environ["NN_TEST_CONFIG"])))
"""
    proc = stopped_at(follow_once, app_config, "follow.before_position")
    proc.kill()
    proc.wait()
    assert worker.follow_tick(app) >= 1
    with app.app_context(), store.open_reader(store.PUBLIC) as reader:
        docs = reader.postings("sid", str(story.id)).all_ids()
        assert len([n for n in docs if not reader.is_deleted(n)]) == 1
    assert found(app, "zqfollowd") == {story.public_id}


def test_a_rebuild_starts_from_the_number_it_read_before_filling(
    app: Flask, other: Flask, make_story: MakeStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A withdrawal committed while machine B's rebuild was being filled is not brought back by
    the new build, and no entry is applied twice in vain after the swap."""
    story = make_story(body="Me deportaron desde Houston zqfolloweb.")
    withdrawn = []

    def withdraw_meanwhile(build: Path, progress: Any) -> tuple[int, int]:
        counts = fill(build, progress)
        with app.app_context():  # through machine A, while B's build is filled
            s = db.session.get(Story, story.id)
            assert s is not None
            stories.withdraw(s)
            db.session.commit()
            withdrawn.append(s.id)
        return counts

    from nuevonorte.search import health

    fill = health._fill
    monkeypatch.setattr(health, "_fill", withdraw_meanwhile)
    with other.app_context():
        search.rebuild()
        db.session.remove()
    assert withdrawn
    assert str(story.id) not in indexed(other)
    assert files_holding(index_dir(other), "zqfolloweb") == []
    assert position_of(other) == numbered()


def test_a_machine_behind_what_the_log_keeps_rebuilds(
    app: Flask, other: Flask, make_story: MakeStory
) -> None:
    story = make_story(body="Volví a Chiapas zqfollowf.")
    db.session.rollback()
    old = utcnow() - timedelta(days=30)
    db.session.execute(update(SearchLogEntry).values(queued_at=old))
    db.session.commit()
    with app.app_context():
        follow.follow()  # A is up to date; B never followed
        assert follow.prune(keep_days=14) >= 1
    with other.app_context(), pytest.raises(follow.Behind):
        follow.follow()
    worker.follow_tick(other)  # rebuilt, from the database
    assert story.public_id in found(other, "zqfollowf")
    assert position_of(other) == numbered()


def test_an_index_whose_position_is_lost_is_rebuilt_not_trusted(
    app: Flask, other: Flask, make_story: MakeStory
) -> None:
    """Without its position nobody knows which entries the index holds: it is behind, and its
    worker rebuilds it from the database (a withdrawal made meanwhile included)."""
    story = make_story(body="Me regresé a Puebla zqfollowg.")
    worker.follow_tick(other)
    follow.position_file(index_dir(other)).unlink()
    with app.app_context():
        s = db.session.get(Story, story.id)
        assert s is not None
        stories.withdraw(s)
        db.session.commit()
    with other.app_context(), pytest.raises(follow.Behind):
        follow.follow()
    with other.app_context():
        found_by_check = {(f.kind, f.urgent) for f in search.index_findings(repair=False)}
        db.session.remove()
    assert ("index-log-no-position", True) in found_by_check
    worker.follow_tick(other)
    assert files_holding(index_dir(other), "zqfollowg") == []
    assert position_of(other) == numbered()


def _withhold_second_paragraph(machine: Flask, story_id: int) -> None:
    with machine.app_context():
        s = db.session.get(Story, story_id)
        assert s is not None
        s.restricted_paragraphs = "1"
        db.session.commit()
        db.session.remove()


def test_a_lagging_machine_never_matches_a_paragraph_withheld_since_T21(
    app: Flask, other: Flask, make_story: MakeStory
) -> None:
    """The story stays public, so the per-story re-check alone would let B match the withheld
    paragraph from its index (and show a snippet of it): B leaves the story out of its results
    until it has applied the change, then shows it for what is still public."""
    story = make_story(body="Crucé con mi primo zqstalqk.\n\nMi tío se llama zqstalqw.")
    worker.follow_tick(other)
    assert story.public_id in found(other, "zqstalqw")
    _withhold_second_paragraph(app, story.id)
    assert files_holding(index_dir(other), "zqstalqw", purged=False)  # B has not followed
    assert found(other, "zqstalqw") == set()
    assert found(other, "zqstalqk") == set()  # out of B's results until B follows
    assert found(app, "zqstalqw") == set()
    assert story.public_id in found(app, "zqstalqk")
    worker.follow_tick(other)
    assert found(other, "zqstalqw") == set()
    assert story.public_id in found(other, "zqstalqk")


def test_a_machine_below_the_pruned_log_shows_nothing_it_may_have_missed_T21(
    app: Flask, other: Flask, make_story: MakeStory
) -> None:
    """The entries that said what changed since B's index was written are pruned: any of its
    stories may have narrowed since, so B shows none of them until its rebuild."""
    story = make_story(body="Llegué a Tijuana zqstalqx.\n\nMi hermana se llama zqstalqz.")
    worker.follow_tick(other)
    _withhold_second_paragraph(app, story.id)
    db.session.rollback()
    db.session.execute(update(SearchLogEntry).values(queued_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    with app.app_context():
        assert follow.prune(keep_days=14) >= 1
    assert found(other, "zqstalqz") == set()
    assert found(other, "zqstalqx") == set()
    worker.follow_tick(other)  # rebuilt from the database
    assert found(other, "zqstalqz") == set()
    assert story.public_id in found(other, "zqstalqx")
    assert [f for f in files_holding(index_dir(other), "zqstalqz") if "/public/" in f] == []
