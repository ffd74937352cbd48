"""A withdrawn story leaves no text in the database files (docs/security.md T04, C06): the raw
bytes of the SQLite file and of its -wal, -journal and -shm are read after the withdrawal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Credit, Story
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    bool(POSTGRES_URL), reason="reads SQLite's files; what PostgreSQL keeps is in docs/security.md"
)

MARKERS = ["tlaquepaquense", "Xochiquetzalli", "cempasuchilar", "ahuehuetero"]


def database_files(app: Flask) -> list[Path]:
    main = Path(db.engine.url.database or "")
    return [p for p in (main, *(Path(f"{main}{s}") for s in ("-wal", "-journal", "-shm"))) if p.exists()]


def holding(app: Flask, word: str) -> list[str]:
    return [p.name for p in database_files(app) if word.encode() in p.read_bytes()]


@pytest.mark.parametrize("how", ["domain", "while-a-page-was-read"])
def test_withdrawn_text_is_in_no_database_file_T04(
    app: Flask, client: FlaskClient, make_story: Callable[..., Story], how: str
) -> None:
    choices = ConsentChoices(credit=Credit.NAME, credit_name=MARKERS[1])
    story = make_story(
        choices=choices, title=f"Relato {MARKERS[0]}", body=f"Texto {MARKERS[2]}.", summary_es=MARKERS[3]
    )
    others = [make_story(body=f"Otro relato número {i}.") for i in range(3)]
    assert all(holding(app, m) for m in MARKERS)  # the scan sees what is stored
    if how == "while-a-page-was-read":
        assert client.get(f"/es/stories/{others[0].public_id}").status_code == 200
    stories.withdraw(story)
    db.session.commit()
    for marker in MARKERS:
        assert holding(app, marker) == [], marker
    assert all(p.stat().st_size == 0 for p in database_files(app) if p.name.endswith("-wal"))


def test_a_reader_blocking_the_checkpoint_fails_nothing_and_check_finishes_it_T04(
    app: Flask, runner: FlaskCliRunner, make_story: Callable[..., Story]
) -> None:
    """A reader open during the withdrawal keeps the -wal; the withdrawal still commits and
    ``nuevonorte check`` empties the -wal afterwards."""
    import sqlite3

    story = make_story(body=f"Texto {MARKERS[2]}.")
    main = database_files(app)[0]
    reader = sqlite3.connect(main, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM story").fetchone()
    stories.withdraw(story)
    db.session.commit()  # must not raise although the checkpoint is blocked
    reader.execute("COMMIT")
    reader.close()
    runner.invoke(args=["check"])
    assert holding(app, MARKERS[2]) == []


def test_media_files_and_folders_carry_no_times_M16(app: Flask) -> None:
    """Adding or removing a stored file stamps its folder with the time: both are reset to 0."""
    from nuevonorte.storage import get_storage

    storage = get_storage()
    first = storage.put_bytes(b"\xff\xd8one", "jpg")
    storage.put_bytes(b"\xff\xd8two", "jpg")
    storage.delete(first)
    root = Path(app.config["MEDIA_DIR"])
    for path in [root, *root.rglob("*")]:
        assert path.stat().st_mtime == 0, path
