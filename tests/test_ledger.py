"""The withdrawal ledger (issue 15, docs/security.md T07, T14, T15): a change that takes a story out of
view is written down outside the database before it commits, and a database that lacks it —
an older backup restored, a transaction killed after its line was written — is made to hold it
again before anything is served."""

from __future__ import annotations

import secrets
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from hypothesis.strategies import integers, sampled_from

from nuevonorte import create_app, ledger, search, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.description import Description, describe
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, LedgerEntry, Story, StoryStatus, Visibility
from tests.conftest import POSTGRES_URL
from tests.public.media_factory import add_image
from tests.stopped_process import stopped_at

sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="copies the SQLite file as an old backup")


def ledger_text(app: Flask) -> str:
    return Path(app.config["LEDGER_PATH"]).read_text()


_made: list[Flask] = []


@pytest.fixture(autouse=True)
def _close_made_apps() -> Iterator[None]:
    """The applications a test made close their database connections after it."""
    yield
    while _made:
        with _made.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def fresh_process(app_config: dict[str, Any]) -> FlaskClient:
    """A client of a new application, as a worker that has not served anything yet."""
    ledger.forget_what_was_seen()
    made = create_app(app_config)
    _made.append(made)
    return made.test_client()


def public(client: FlaskClient, story: Story | str) -> bool:
    """Whether a visitor may read ``story`` (the test's own read ends first: its snapshot must
    not outlive what the client's worker writes)."""
    public_id = story if isinstance(story, str) else story.public_id
    db.session.rollback()
    status = client.get(f"/en/stories/{public_id}").status_code
    assert status in (200, 404)
    return status == 200


def test_a_withdrawal_writes_its_id_and_day_and_nothing_else_T07(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    story = make_story(title="Mi tía Rosaura", body="Crucé por Sásabe con Rosaura.")
    stories.withdraw(story)
    db.session.commit()
    lines = ledger_text(app).splitlines()
    assert lines[0].split(" ")[2] == ledger.STARTED
    entry_id, day, kind, story_id = lines[-1].split(" ")
    assert (kind, story_id) == (ledger.WITHDRAWN, story.public_id)
    assert day == story.withdrawn_on.isoformat()
    assert db.session.get(LedgerEntry, entry_id) is not None  # committed with the withdrawal
    raw = Path(app.config["LEDGER_PATH"]).read_bytes()
    for word in (b"Rosaura", b"Sasabe", "Sásabe".encode()):
        assert word not in raw


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ("withdraw", ledger.WITHDRAWN),
        ("narrow", ledger.NARROWED),
        ("unpublish", ledger.HIDDEN),
        ("withhold a paragraph", ledger.HIDDEN),
    ],
)
def test_a_change_whose_commit_never_came_is_made_by_the_next_process_T14(
    app: Flask,
    app_config: dict[str, Any],
    make_story: Callable[..., Story],
    curator: CuratorAccount,
    change: str,
    kind: str,
) -> None:
    """Written down, then the transaction rolled back (a crash, a full disk): the archive owes
    the narrator that change, and a new worker makes it before serving anything."""
    story = make_story(title="Se va", body="Primero.\n\nSegundo.")
    client = fresh_process(app_config)
    assert public(client, story)
    if change == "withdraw":
        stories.withdraw(story)
    elif change == "narrow":
        choices = ConsentChoices(visibility=Visibility.CURATORS, credit_name="Ana")
        stories.change_consent(story, choices, language="es")
    elif change == "unpublish":
        stories.unpublish(story, None)
    else:
        describe(story, Description(title_es="Se va", restricted_paragraphs=[1]), curator)
    db.session.rollback()
    assert ledger_text(app).splitlines()[-1].split(" ")[2:] == [kind, story.public_id]
    db.session.expire_all()
    assert db.session.get(Story, story.id).status == StoryStatus.PUBLISHED  # nothing committed
    client = fresh_process(app_config)
    assert not public(client, story)
    db.session.expire_all()
    again = db.session.get(Story, story.id)
    if change == "withdraw":
        assert again.status == StoryStatus.WITHDRAWN and again.body == ""
    elif change == "narrow":
        assert again.current_consent.visibility == Visibility.CONTRIBUTOR  # the narrowest
    else:
        assert again.status == StoryStatus.SUBMITTED  # back to a curator
    # Made once: a second new worker finds nothing owed, and adds nothing to the ledger.
    before = ledger_text(app)
    assert not public(fresh_process(app_config), story)
    assert ledger_text(app) == before


def test_a_withdrawn_file_stays_withdrawn_T14(
    app: Flask, app_config: dict[str, Any], make_story: Callable[..., Story]
) -> None:
    story = make_story(choices=ConsentChoices(credit_name="Ana", photos_public=True))
    photo = add_image(story)
    db.session.commit()
    client = fresh_process(app_config)
    media_id = photo.public_id
    db.session.rollback()
    with client.get(f"/media/{media_id}/display") as response:
        assert response.status_code == 200
    stories.withdraw_media(story, story.media[0])
    db.session.rollback()
    client = fresh_process(app_config)
    with client.get(f"/media/{media_id}/display") as response:
        assert response.status_code == 404
    assert public(client, story)  # only the file went


@sqlite_only
def test_an_older_copy_of_the_database_never_brings_a_withdrawn_story_back_T07(
    app: Flask, app_config: dict[str, Any], make_story: Callable[..., Story], tmp_path: Path
) -> None:
    """The trap of the obvious backup: copy the database, withdraw, put the copy back."""
    gone = make_story(title="Me retiro", body="Palabrasecreta de mi historia.")
    narrowed = make_story(title="Solo para curadores")
    stays = make_story(title="Se queda")
    ids = gone.public_id, narrowed.public_id, stays.public_id
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    copy = tmp_path / "old-backup.sqlite3"
    _online_copy(database, copy)
    stories.withdraw(gone)
    stories.change_consent(
        narrowed, ConsentChoices(visibility=Visibility.CURATORS, credit_name="A"), language="es"
    )
    db.session.commit()
    db.session.remove()
    _online_copy(copy, database)  # the restore: the old database, the same ledger
    client = fresh_process(app_config)
    assert not public(client, ids[0]) and not public(client, ids[1])
    assert public(client, ids[2])
    search.rebuild()  # as `restore` does, after the replay
    hits = client.get("/api/v1/search?q=palabrasecreta&lang=es").get_json()["hits"]
    assert hits == []
    assert b"Palabrasecreta" not in database.read_bytes()


def _online_copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def test_a_missing_ledger_stops_the_archive_until_it_is_back_T15(
    app: Flask, app_config: dict[str, Any], make_story: Callable[..., Story], runner: FlaskCliRunner
) -> None:
    story = make_story()
    stories.withdraw(make_story(title="Otra"))
    db.session.commit()
    file = Path(app.config["LEDGER_PATH"])
    kept = file.read_bytes()
    file.unlink()
    client = fresh_process(app_config)
    for lang, says in (("es", "no es tu culpa"), ("en", "It is not your fault")):
        response = client.get(f"/{lang}/stories/{story.public_id}")
        assert response.status_code == 503
        assert says.lower() in response.get_data(as_text=True).lower()
    assert client.get("/api/v1/search?q=relato").get_json()["error"] == "unavailable"
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1 and "withdrawal ledger" in result.output and "missing" in result.output
    file.write_bytes(kept)
    assert public(fresh_process(app_config), story)


def test_another_archives_ledger_is_refused_T15(
    app: Flask, app_config: dict[str, Any], make_story: Callable[..., Story], tmp_path: Path
) -> None:
    story = make_story()
    stories.withdraw(make_story(title="Otra"))
    db.session.commit()
    file = Path(app.config["LEDGER_PATH"])
    file.write_text("0123456789abcdef 2026-01-01 started -\n")
    assert fresh_process(app_config).get(f"/es/stories/{story.public_id}").status_code == 503


def test_a_line_cut_by_a_crash_is_not_an_entry_and_the_next_one_starts_clean_T14(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    first = make_story(title="Uno")
    stories.withdraw(first)
    db.session.commit()
    file = Path(app.config["LEDGER_PATH"])
    with file.open("a") as f:
        f.write("deadbeef00000000 2026-12-0")  # a process killed mid-write
    assert [e.story_id for e in ledger.read()][-1] == first.public_id
    second = make_story(title="Dos")
    stories.withdraw(second)
    db.session.commit()
    assert [e.story_id for e in ledger.read()][-2:] == [first.public_id, second.public_id]
    assert "2026-12-0\n" not in file.read_text() and "deadbeef" not in file.read_text()


WITHDRAW = """
import json, os
from nuevonorte import create_app, stories
from nuevonorte.extensions import db
from nuevonorte.models import Story
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
with app.app_context():
    story = db.session.get(Story, int(os.environ["NN_TEST_STORY"]))
    stories.withdraw(story)
    db.session.commit()
"""


@pytest.mark.parametrize("point", ["ledger.before_append", "ledger.appended", "commit.before_index"])
def test_a_withdrawal_killed_at_each_step_converges_T14(
    app: Flask, app_config: dict[str, Any], make_story: Callable[..., Story], point: str
) -> None:
    """SIGKILL before the line is written: nothing happened and nobody was told otherwise (the
    story stays). After it: the next worker finishes the withdrawal."""
    story = make_story(title="Me voy", body="Palabrasecreta.")
    search.rebuild()
    proc = stopped_at(WITHDRAW, app_config, point, {"NN_TEST_STORY": str(story.id)})
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    db.session.rollback()
    client = fresh_process(app_config)
    stays = point == "ledger.before_append"
    assert public(client, story) is stays
    hits = client.get("/api/v1/search?q=palabrasecreta&lang=es").get_json()["hits"]
    assert bool(hits) is stays
    db.session.rollback()
    assert (db.session.get(Story, story.id).status == StoryStatus.WITHDRAWN) is not stays
    search.store.forget_searchers()


# --- sequences ----------------------------------------------------------------------------


class Backups(RuleBasedStateMachine):
    """Random sequences of withdrawals, narrowings, curators' hidings, re-publishings, backups
    (a copy of the database) and restores of any earlier backup; after every step each story is
    public exactly when the model says. The model: a restore brings back the backup's states,
    except that anything taken out of view after that backup stays out of view."""

    app_config: dict[str, Any]
    folder: Path
    make_story: Callable[..., Story]

    def __init__(self) -> None:
        super().__init__()
        made = create_app(self.app_config)
        _made.append(made)
        self.client = made.test_client()
        self.shown: dict[int, bool] = {}
        self.gone: set[int] = set()  # withdrawn: never public again
        self.words: dict[int, str] = {}  # a word only each story's body has
        self.backups: list[tuple[Path, dict[int, bool], set[int]]] = []
        self.hidden_since: list[set[int]] = []  # per backup: stories taken out of view after it

    @initialize()
    def three_stories(self) -> None:
        for n in range(3):
            word = "palabra" + secrets.token_hex(4).translate(str.maketrans("0123456789", "ghijklmnop"))
            story = self.make_story(title=f"Relato {n}", body=f"Recuerdo {word} de mi pueblo.")
            self.shown[story.id] = True
            self.words[story.id] = word

    def _story(self, sid: int) -> Story:
        story = db.session.get(Story, sid)
        assert story is not None
        return story

    def _taken_out(self, sid: int) -> None:
        self.shown[sid] = False
        for hidden in self.hidden_since:
            hidden.add(sid)

    @rule(n=integers(0, 2), how=sampled_from(["withdraw", "narrow", "unpublish"]))
    def take_out_of_view(self, n: int, how: str) -> None:
        sid = sorted(self.shown)[n]
        story = self._story(sid)
        if story.status == StoryStatus.WITHDRAWN:
            return
        if how == "withdraw":
            stories.withdraw(story)
            self.gone.add(sid)
        elif how == "narrow":
            stories.change_consent(
                story, ConsentChoices(visibility=Visibility.CURATORS, credit_name="A"), language="es"
            )
        elif story.status == StoryStatus.PUBLISHED:
            stories.unpublish(story, None)
        db.session.commit()
        self._taken_out(sid)

    @rule(n=integers(0, 2))
    def publish_again(self, n: int) -> None:
        sid = sorted(self.shown)[n]
        story = self._story(sid)
        if story.status == StoryStatus.WITHDRAWN:
            return
        stories.change_consent(story, ConsentChoices(credit_name="Ana"), language="es")
        stories.publish(story, None)
        db.session.commit()
        self.shown[sid] = True

    @rule()
    def back_up(self) -> None:
        copy = self.folder / f"backup-{len(self.backups)}.sqlite3"
        db.session.commit()
        _online_copy(self._database(), copy)
        self.backups.append((copy, dict(self.shown), set(self.gone)))
        self.hidden_since.append(set())

    @precondition(lambda self: bool(self.backups))
    @rule(data=integers(0, 10))
    def restore(self, data: int) -> None:
        number = data % len(self.backups)
        copy, shown, gone = self.backups[number]
        hidden = self.hidden_since[number]
        db.session.remove()
        _online_copy(copy, self._database())  # the next request (a new worker's first) replays the ledger
        self.shown = {sid: was and sid not in hidden and sid not in self.gone for sid, was in shown.items()}
        # Backups taken after this one describe a future that no longer happened.
        del self.backups[number + 1 :]
        del self.hidden_since[number + 1 :]
        self.gone |= gone

    def _database(self) -> Path:
        return Path(str(db.engine.url.database))

    @invariant()
    def each_story_is_public_exactly_when_the_model_says(self) -> None:
        ledger.forget_what_was_seen()  # as a worker started after the restore
        client = self.client
        for sid, shown in self.shown.items():
            story = db.session.get(Story, sid)
            assert story is not None
            assert public(client, story) is shown, (sid, shown)
        db.session.rollback()
        self._withdrawn_words_are_in_no_database_file()

    def _withdrawn_words_are_in_no_database_file(self) -> None:
        """Read the bytes: after the replay (the requests above ran it), the database file and
        its write-ahead log hold no word of a withdrawn story, whichever backup was put back."""
        database = self._database()
        raw = b"".join(
            Path(f"{database}{suffix}").read_bytes()
            for suffix in ("", "-wal")
            if Path(f"{database}{suffix}").exists()
        )
        for sid in self.gone:
            assert self.words[sid].encode() not in raw, sid


@sqlite_only
@pytest.mark.timeout(600)
def test_no_sequence_of_backups_and_restores_brings_back_what_left_view_T07(
    app: Flask, app_config: dict[str, Any], make_story: Callable[..., Story], tmp_path: Path
) -> None:
    Backups.app_config = app_config
    Backups.folder = tmp_path
    Backups.make_story = staticmethod(make_story)  # type: ignore[assignment]
    test = Backups.TestCase
    test.settings = settings(
        max_examples=12,
        stateful_step_count=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    test().runTest()
