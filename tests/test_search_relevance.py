"""The bilingual relevance suite (tests/relevance.py): every query finds its story among the
first three public results, on the demo archive and the suite's own stories (decision 0011)."""

from __future__ import annotations

import pytest

from nuevonorte import demo, search, stories
from nuevonorte.extensions import db
from nuevonorte.models import Cue as CueRow
from nuevonorte.models import MediaFile, MediaKind, Place, Story, Theme, Transcript
from tests import relevance

pytestmark = pytest.mark.usefixtures("index")


def load_suite() -> dict[str, str]:
    """The demo archive and the suite's stories, saved and indexed; public id -> key."""
    demo.load()
    db.session.commit()
    themes = {t.slug: t for t in db.session.scalars(db.select(Theme))}
    places = {p.slug: p for p in db.session.scalars(db.select(Place))}
    for spec in relevance.STORIES:
        story = stories.submit(
            None,
            body=spec["body"],
            choices=relevance.consent_of(spec),
            consent_language=spec["lang"],
            language=spec["lang"],
            themes=[themes[t] for t in spec["themes"]],
            places=[places[p] for p in spec["places"]],
        )
        story.title_es, story.title_en = spec["title"]
        story.summary_es, story.summary_en = spec["summary"]
        story.period_start, story.period_end = spec["period"]
        transcript = relevance.transcript_of(spec)
        if transcript:
            add_recording(story, *transcript)
        stories.publish(story, None)
    db.session.commit()
    keys = {}
    for spec in relevance.specs():
        title_es, title_en = spec["title"]
        story = db.session.scalar(
            db.select(Story).where(Story.title_es == title_es, Story.title_en == title_en)
        )
        assert story is not None, spec["key"]
        keys[story.public_id] = spec["key"]
    return keys


def add_recording(story: Story, lang: str, cues: list[tuple[int, int, str, str]]) -> None:
    """A recording (no file: search reads none) with its transcript and translation."""
    media = MediaFile(
        kind=MediaKind.AUDIO,
        mime_type="audio/mpeg",
        storage_key=f"relevance-{story.public_id}",
        checksum="0" * 64,
        size_bytes=1,
        duration_seconds=60,
    )
    media.transcript = Transcript(
        language=lang,
        translation_language="en" if lang == "es" else "es",
        cues=[
            CueRow(position=n, start_ms=s, end_ms=e, text=t, translation=tr)
            for n, (s, e, t, tr) in enumerate(cues)
        ],
    )
    story.media.append(media)


@pytest.fixture
def suite(app: object) -> dict[str, str]:
    return load_suite()


def top(keys: dict[str, str], query: str, lang: str, n: int = relevance.TOP) -> list[str]:
    return [keys.get(h.public_id, h.public_id) for h in search.search_public(query, lang, pagelen=n).hits]


def test_every_query_finds_its_story_in_the_top_three(suite: dict[str, str]) -> None:
    found = {q: top(suite, q.query, q.lang) for q in relevance.QUERIES}
    missed = [
        f"{q.query!r} ({q.lang}) -> {keys}, wanted {q.key}" for q, keys in found.items() if q.key not in keys
    ]
    assert len(relevance.QUERIES) >= 60
    assert not missed, "\n".join(missed)
    assert relevance.score(found) == 1.0


def test_stories_that_are_not_public_are_never_found(suite: dict[str, str]) -> None:
    for q in relevance.ABSENT:
        assert q.key not in top(suite, q.query, q.lang, 50), q


def test_a_typo_finds_its_story_through_did_you_mean(suite: dict[str, str]) -> None:
    results = search.search_public("guelaguetsa", "en")
    assert results.total == 0 and results.suggestion == "guelaguetza"
    assert top(suite, results.suggestion, "en") == ["oaxaca"]
