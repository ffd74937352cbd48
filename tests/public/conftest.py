"""Fixtures for the public-site tests: the demo archive, and a story with real stored media."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from nuevonorte import create_app, demo
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Story
from tests.public.media_factory import add_audio, add_image


@pytest.fixture
def demo_archive(app: Any) -> None:
    """The demo archive, committed."""
    demo.load()
    db.session.commit()


@pytest.fixture
def media_story(make_story: Callable[..., Story]) -> Story:
    """A public story whose voice and photos are public, with an image and a transcribed recording."""
    story = make_story(
        choices=ConsentChoices(credit_name="Rosa", voice_public=True, photos_public=True),
        title="La noche que llegamos",
        title_en="The night we arrived",
        summary_es="Un regreso de noche.",
        summary_en="A return at night.",
        body="Primer párrafo del relato.\n\nUn pasaje privado.\n\nÚltimo párrafo.",
        restricted_paragraphs="1",
    )
    add_image(story)
    add_audio(story)
    db.session.commit()
    return story


@pytest.fixture
def make_app(app_config: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Factory: another application on the test's database with some settings changed; its
    database connections are closed after the test."""
    made: list[Flask] = []

    def make(**changes: Any) -> Flask:
        made.append(create_app({**app_config, **changes}))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()
