"""A withdrawn story leaves no text in the database files (docs/security.md T04, C06): the raw
bytes of the SQLite file and of its -wal, -journal and -shm are read after the withdrawal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

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
