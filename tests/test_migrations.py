"""Migrations are reviewed code: one head, and `upgrade head` builds exactly the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from nuevonorte import create_app
from nuevonorte.config import PROJECT_DIR
from nuevonorte.extensions import db
from nuevonorte.models import Base
from tests.conftest import TEST_SECRET


@pytest.fixture
def migration_app(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "secret_key": TEST_SECRET,
            "database_url": empty_database_url,
            "media_dir": str(tmp_path / "media"),
        }
    )
    with app.app_context():
        yield app
        db.engine.dispose()


def test_there_is_exactly_one_head() -> None:
    script = ScriptDirectory(str(PROJECT_DIR / "migrations"))
    assert len(script.get_heads()) == 1


def test_upgrade_head_on_an_empty_database_equals_the_models(migration_app: Flask) -> None:
    upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(migration_app: Flask) -> None:
    upgrade()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert {t.name for t in Base.metadata.sorted_tables} <= set(inspect(db.engine).get_table_names())


def test_migrations_never_import_the_application() -> None:
    for path in (PROJECT_DIR / "migrations" / "versions").glob("*.py"):
        assert "nuevonorte" not in path.read_text(), path.name


def test_0008_gives_existing_terms_an_english_slug_from_their_english_name(migration_app: Flask) -> None:
    upgrade(revision="0007")
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO theme (slug, name_es, name_en) VALUES (:s, :es, :en)"),
            [
                {"s": "trabajo", "es": "Trabajo", "en": "Work"},
                {"s": "regreso", "es": "Regreso", "en": "Return"},
                {"s": "retorno", "es": "Retorno", "en": "Return"},
                {"s": "sin-nombre", "es": "Sin nombre", "en": "¿?"},
            ],
        )
        conn.execute(
            text(
                "INSERT INTO place (slug, name_es, name_en, country_code, level) "
                "VALUES ('cdmx', 'Ciudad de México', 'Mexico City', 'MX', 'city'),"
                " ('sao-paulo', 'São Paulo', 'São Paulo', 'BR', 'city')"
            )
        )
    upgrade(revision="0008")
    with db.engine.connect() as conn:
        themes = dict(conn.execute(text("SELECT slug, slug_en FROM theme")).all())
        places = dict(conn.execute(text("SELECT slug, slug_en FROM place")).all())
    # Two themes called "Return" in English: the second (by id) gets a suffix; a name with no
    # letters keeps the Spanish short id.
    assert themes == {
        "trabajo": "work",
        "regreso": "return",
        "retorno": "return-2",
        "sin-nombre": "sin-nombre",
    }
    assert places == {"cdmx": "mexico-city", "sao-paulo": "sao-paulo"}
    with db.engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(text("UPDATE theme SET slug_en = 'work' WHERE slug = 'regreso'"))

    downgrade(revision="0007")
    assert "slug_en" not in {c["name"] for c in inspect(db.engine).get_columns("theme")}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM theme")).scalar() == 4
        assert conn.execute(text("SELECT count(*) FROM place")).scalar() == 2


def test_0021_gives_public_stories_a_public_record_and_names_no_other(migration_app: Flask) -> None:
    """Stories made through the domain, their records dropped (back to 0020) and made again by
    the migration: a public story is a record dated the day it was published, one under a running
    embargo starts the day it ends, and a story out of view has none (it may never have been
    public, and a story never public must never be named)."""
    from datetime import timedelta

    from nuevonorte import stories
    from nuevonorte.consent import ConsentChoices
    from nuevonorte.models import Visibility
    from nuevonorte.models.base import today

    upgrade()
    made = {}
    for name, embargo in (("public", None), ("embargoed", today() + timedelta(days=9)), ("sent back", None)):
        story = stories.submit(None, body=name, choices=ConsentChoices(), consent_language="es")
        stories.publish(story, None)
        if embargo:
            later = ConsentChoices(visibility=Visibility.PUBLIC, embargo_until=embargo)
            stories.change_consent(story, later, language="es")
        made[name] = story
    stories.unpublish(made["sent back"], None)
    db.session.commit()
    ids = {name: (s.id, s.public_id) for name, s in made.items()}
    db.session.remove()
    downgrade(revision="0020")
    upgrade(revision="0021")
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT story_id, visible_from, was_public, datestamp FROM public_record")
        ).all()
    found = {
        story_id: (str(visible)[:10], bool(was), str(stamp)[:10]) for story_id, visible, was, stamp in rows
    }
    day, ends = today().isoformat(), (today() + timedelta(days=9)).isoformat()
    assert found == {ids["public"][0]: (day, True, day), ids["embargoed"][0]: (ends, False, day)}
