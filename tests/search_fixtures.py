"""Fixtures for the search tests: an empty, real Whoosh index on disk, readers of it, transcripts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from nuevonorte import search
from nuevonorte.extensions import db
from nuevonorte.models import Cue, MediaFile, MediaKind, Story, Transcript
from nuevonorte.search import store


@pytest.fixture
def index(app: Flask) -> Iterator[Path]:
    """Build the (empty) indexes for the test's archive; later commits update them."""
    search.rebuild()
    yield Path(app.config["INDEX_DIR"])
    store.forget_searchers()


def public_sids() -> set[str]:
    """Story ids in the public index, read from the index itself."""
    return store.indexed_sids(store.PUBLIC)


def public_stored_text() -> str:
    """Every stored field of every live public document, as one string."""
    with store.searcher(store.PUBLIC) as s:
        return "\n".join(str(v) for fields in s.all_stored_fields() for v in fields.values())


def public_lexicon() -> set[str]:
    """Every term of every field in the public index files (deleted documents' terms too),
    and each word of a pair of common words (``schema.SharedText``)."""
    ix = store.open_index(store.PUBLIC)
    with ix.reader() as r:
        terms = {
            (t.decode("utf-8") if isinstance(t, bytes) else str(t))
            for name in ix.schema.names()
            if ix.schema[name].indexed
            for t in r.lexicon(name)
        }
    return terms | {word for term in terms for word in term.split(" ")}


def add_transcribed_audio(story: Story, cues: list[tuple[int, str, bool]], language: str = "es") -> MediaFile:
    """Attach a recording (no file: only what search reads) with a transcript in ``language``
    (Spanish unless told); committed.

    ``cues`` are (start in ms, text, restricted); each cue lasts four seconds.
    """
    media = MediaFile(
        kind=MediaKind.AUDIO,
        mime_type="audio/mpeg",
        storage_key=f"key-{story.id}-{len(story.media)}",
        checksum="0" * 64,
        size_bytes=1,
        duration_seconds=600,
    )
    media.transcript = Transcript(
        language=language,
        cues=[
            Cue(position=i, start_ms=start, end_ms=start + 4000, text=text, restricted=restricted)
            for i, (start, text, restricted) in enumerate(cues)
        ],
    )
    story.media.append(media)
    db.session.commit()
    return media


class PausedRebuild:
    """``search.rebuild()`` in a thread that stops inside its fill until ``finish()``, so other
    steps happen while it runs (T03). Errors of the rebuild are kept in ``errors``."""

    def __init__(self, app: Flask) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(app,), daemon=True)

    def _progress(self, _n: int) -> None:
        self.started.set()
        self.release.wait(120)

    def _run(self, app: Flask) -> None:
        try:
            with app.app_context():
                search.rebuild(self._progress)
        except BaseException as e:  # the test reports it
            self.errors.append(e)
        finally:
            self.started.set()

    def start(self) -> PausedRebuild:
        """Start it and wait until it is inside the rebuild."""
        self.thread.start()
        assert self.started.wait(120)
        return self

    def finish(self) -> None:
        """Let it go on, and wait for it to end."""
        self.release.set()
        self.thread.join(300)
        assert not self.thread.is_alive()
