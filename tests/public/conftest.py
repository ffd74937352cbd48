"""Fixtures for the public-site tests: the demo archive, and a story with real stored media."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nuevonorte import demo
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
