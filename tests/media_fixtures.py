"""Fixtures for the media ingest tests: a story to attach media to, and leftover checks."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.media import IngestReport, ingest_upload
from nuevonorte.models import MediaFile, Story
from nuevonorte.storage import get_storage


@pytest.fixture
def story(app: Flask) -> Story:
    """A committed draft story to attach media to."""
    made = stories.submit(
        None,
        body="Texto.",
        title="Con fotos",
        language="es",
        choices=ConsentChoices(credit_name="Ana"),
        consent_language="es",
    )
    db.session.commit()
    return made


@pytest.fixture
def ingest(story: Story) -> Callable[[bytes], tuple[MediaFile, IngestReport]]:
    """Ingest bytes into ``story`` as an upload stream."""

    def run(data: bytes) -> tuple[MediaFile, IngestReport]:
        return ingest_upload(story, io.BytesIO(data))

    return run


def media_rows() -> int:
    """How many media rows the database holds (flushed or committed)."""
    return int(db.session.scalar(select(func.count(MediaFile.id))) or 0)


def assert_nothing_left() -> None:
    """No media row, no stored file and no temporary file remains."""
    storage = get_storage()
    assert media_rows() == 0
    assert list(storage.keys()) == []
    assert storage.temp_files() == []
