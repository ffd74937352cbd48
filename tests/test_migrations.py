"""Migrations are reviewed code: one head, and `upgrade head` builds exactly the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def test_0028_counts_existing_stories_as_each_change_would_have(migration_app: Flask) -> None:
    """Stories with themes and places made through the domain (the kept counts written by each
    change), the counts dropped (back to 0027) and made again by the migration: the rows are the
    same, so an archive upgraded lists the same themes and places as one that always counted.
    A story narrowed, sent back or kept private is in none; an embargoed one from its last day."""
    from datetime import timedelta

    from nuevonorte import stories, term_counts
    from nuevonorte.consent import ConsentChoices
    from nuevonorte.models import Place, PlaceLevel, Theme, Visibility
    from nuevonorte.models.base import today

    upgrade()
    border = Theme(slug="frontera", slug_en="border", name_es="Frontera", name_en="Border")
    work = Theme(slug="trabajo", slug_en="work", name_es="Trabajo", name_en="Work")
    city = Place(slug="tijuana", slug_en="tijuana", name_es="Tijuana", name_en="Tijuana")
    city.country_code, city.level = "MX", PlaceLevel.CITY
    made = {}
    for name in ("public", "embargoed", "narrowed", "sent back", "never published"):
        story = stories.submit(
            None,
            body=name,
            choices=ConsentChoices(),
            consent_language="es",
            themes=[border, work],
            places=[city],
        )
        if name != "never published":
            stories.publish(story, None)
        made[name] = story
    stories.change_consent(
        made["embargoed"], ConsentChoices(embargo_until=today() + timedelta(days=9)), language="es"
    )
    stories.change_consent(made["narrowed"], ConsentChoices(visibility=Visibility.CURATORS), language="es")
    stories.unpublish(made["sent back"], None)
    db.session.commit()
    assert [(t.slug, n) for t, n in term_counts.in_public_use(Theme)] == [("frontera", 1), ("trabajo", 1)]
    ahead = today() + timedelta(days=9)
    assert [(t.slug, n) for t, n in term_counts.in_public_use(Place, on=ahead)] == [("tijuana", 2)]

    def tables() -> tuple[list[Any], list[Any]]:
        with db.engine.connect() as conn:
            counted = conn.execute(
                text("SELECT story_id, kind, term_id, day FROM counted_term ORDER BY 1, 2, 3")
            )
            counts = conn.execute(text("SELECT kind, term_id, day, stories FROM term_count ORDER BY 1, 2, 3"))
            return [tuple(map(str, r)) for r in counted], [tuple(map(str, r)) for r in counts]

    kept = tables()
    assert len(kept[0]) == 6  # the public story's and the embargoed one's three terms each
    db.session.remove()
    downgrade(revision="0027")
    upgrade(revision="0028")
    assert tables() == kept
    assert term_counts.findings(db.session()) == []
    db.session.remove()  # its connection goes back before the fixture disposes of the engine
