"""Curators describing a story: bilingual text, vocabularies, period, warnings, alt text, restrictions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from nuevonorte import audit, ledger, stories, withheld_words
from nuevonorte.content_warnings import WARNINGS
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, MediaKind, Place, Story, StoryStatus, Theme


@dataclass
class Description:
    """Everything a curator may set when describing a story."""

    title_es: str = ""
    title_en: str = ""
    summary_es: str = ""
    summary_en: str = ""
    themes: list[Theme] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    period_start: int | None = None
    period_end: int | None = None
    warnings: list[str] = field(default_factory=list)
    # Alt text by media public id: (Spanish, English).
    alt: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    restricted_paragraphs: Iterable[int] = ()
    # Words withheld inside each paragraph (index -> passages); None leaves them as they are.
    withheld_words: Mapping[int, list[str]] | None = None


def describe(story: Story, d: Description, curator: CuratorAccount) -> None:
    """Apply a description to ``story`` (refused for a withdrawn story); the caller commits."""
    stories.refuse_if_withdrawn(story)
    story.title_es, story.title_en = d.title_es.strip(), d.title_en.strip()
    story.summary_es, story.summary_en = d.summary_es.strip(), d.summary_en.strip()
    story.themes = list(d.themes)
    story.places = list(d.places)
    story.period_start, story.period_end = d.period_start, d.period_end
    story.content_warnings = ",".join(c for c in WARNINGS if c in set(d.warnings))
    _set_withheld(story, set(d.restricted_paragraphs))
    if d.withheld_words is not None:
        paragraphs = story.paragraphs()
        for index, text in enumerate(paragraphs):
            words = d.withheld_words.get(index, [])
            if words or withheld_words.withheld(story, withheld_words.TOLD, index):
                withheld_words.set_paragraph(story, withheld_words.TOLD, index, text, words, curator)
    for media in story.media:
        if media.kind == MediaKind.IMAGE and media.public_id in d.alt:
            media.alt_es, media.alt_en = (t.strip() for t in d.alt[media.public_id])
    db.session.flush()
    audit.record("story.described", "story", story.public_id, actor=curator)


def withhold_paragraph(story: Story, index: int, curator: CuratorAccount | None) -> None:
    """Withhold one paragraph of the body from the public; the caller commits."""
    stories.refuse_if_withdrawn(story)
    _set_withheld(story, story.restricted_indexes() | {index})
    db.session.flush()
    audit.record("story.passage_withheld", "story", story.public_id, actor=curator)


def _set_withheld(story: Story, indexes: set[int]) -> None:
    count = len(story.paragraphs())
    withheld_before = story.restricted_indexes()
    story.restricted_paragraphs = ",".join(str(i) for i in sorted(indexes) if 0 <= i < count)
    if story.status == StoryStatus.PUBLISHED and story.restricted_indexes() - withheld_before:
        ledger.record(ledger.HIDDEN, story)  # a passage withheld after publishing stays withheld


def missing(story: Story) -> list[str]:
    """Codes of what is still missing: translations of title/summary and alt text of images."""
    gaps = [
        f"{name}_{lang}"
        for name in ("title", "summary")
        for lang in ("es", "en")
        if not getattr(story, f"{name}_{lang}")
    ]
    for media in story.media:
        if media.kind == MediaKind.IMAGE:
            gaps += [
                f"alt_{lang}:{media.public_id}" for lang in ("es", "en") if not getattr(media, f"alt_{lang}")
            ]
    return gaps
