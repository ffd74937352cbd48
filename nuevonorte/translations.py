"""A story's body in the other language, paragraph by paragraph, with who translated it.

What the public reads of a translation follows the original exactly: a withheld paragraph is
withheld in every translation (the marker, never its words), and a translation whose original
paragraph changed since is stale and not shown, so an edit of the original can never leave an
old version of its words in public view (docs/security.md C20).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import flag_modified

from nuevonorte import audit, consent, stories, withheld_words
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, ParagraphTranslation, Provenance, Story

#: The longest translated paragraph (a paragraph of the body is at most the whole body).
MAX_PARAGRAPH = 20_000
PROVENANCE_WORDS = {
    Provenance.NARRATOR: _l("Translated by the narrator"),
    Provenance.COMMUNITY: _l("Community translation"),
    Provenance.MACHINE: _l("Machine draft, not yet reviewed"),
    Provenance.REVIEWED: _l("Reviewed translation"),
}


class TranslationRefused(Exception):
    """A translation the archive cannot keep (too long, a paragraph that is not there)."""


def target_language(story: Story) -> str:
    """The language the body is translated into: English for a story told in Spanish (or any
    other language), Spanish for one told in English."""
    return "es" if story.original_language == "en" else "en"


def digest(paragraph: str) -> str:
    """What ties a translation to the words it translates."""
    return hashlib.sha256(paragraph.encode()).hexdigest()


def save(
    story: Story,
    texts: Mapping[int, str],
    provenance: Provenance,
    curator: CuratorAccount | None,
    words: Mapping[int, list[str]] | None = None,
) -> None:
    """Set the translation of the paragraphs in ``texts`` (position → text; empty deletes it),
    all with ``provenance``, and with ``words`` the passages withheld in each translated
    paragraph (``withheld_words``; refused with ``WordsRefused`` when one is not in it); a new
    revision of the story, so a stale form elsewhere is refused."""
    stories.refuse_if_withdrawn(story)
    paragraphs = story.paragraphs()
    language = target_language(story)
    if any(not 0 <= i < len(paragraphs) or len(t) > MAX_PARAGRAPH for i, t in texts.items()):
        raise TranslationRefused()
    current = {(t.position, t.language): t for t in story.translations}
    for position, raw in texts.items():
        text = raw.strip().replace("\r\n", "\n")
        found = current.get((position, language))
        if not text:
            if found is not None:
                story.translations.remove(found)
            continue
        if found is None:
            found = ParagraphTranslation(position=position, language=language)
            story.translations.append(found)
        found.text, found.provenance, found.source_digest = text, provenance, digest(paragraphs[position])
    _withhold_words(story, language, words or {}, curator)
    flag_modified(story, "content_warnings")  # a new revision (the rows are not the story's own)
    db.session.flush()
    audit.record("story.translated", "story", story.public_id, actor=curator)


def _withhold_words(
    story: Story, language: str, words: Mapping[int, list[str]], curator: CuratorAccount | None
) -> None:
    saved = {t.position: t.text for t in story.translations if t.language == language}
    for position, passages in words.items():
        if not passages and not withheld_words.withheld(story, withheld_words.TRANSLATION, position):
            continue
        text = saved.get(position, "")
        withheld_words.set_paragraph(story, withheld_words.TRANSLATION, position, text, passages, curator)


@dataclass(frozen=True)
class Shown:
    """One paragraph as a page shows it: the words and their language, or a withheld marker
    (``text`` None); ``provenance`` when it is a translation."""

    text: str | None
    language: str
    provenance: Provenance | None = None


def for_staff(story: Story) -> dict[int, ParagraphTranslation]:
    """The current (not stale) translations, by paragraph."""
    paragraphs = story.paragraphs()
    language = target_language(story)
    return {
        t.position: t
        for t in story.translations
        if t.language == language
        and t.position < len(paragraphs)
        and t.source_digest == digest(paragraphs[t.position])
    }


def stale(story: Story) -> list[int]:
    """Paragraphs whose translation no longer matches the original (shown to curators)."""
    current = for_staff(story)
    language = target_language(story)
    return sorted(
        t.position for t in story.translations if t.language == language and t.position not in current
    )


def public_paragraphs(story: Story, locale: str) -> list[Shown] | None:
    """The body as a visitor reading in ``locale`` gets it: each public paragraph in their
    language when a current translation exists, else as told; withheld ones as markers. None
    when there is nothing translated into ``locale``."""
    if locale != target_language(story):
        return None
    translated = for_staff(story)
    if not translated:
        return None
    told = story.original_language or "es"
    words = withheld_words.of(story)
    shown = []
    for position, paragraph in enumerate(consent.public_paragraphs(story)):
        text = None
        if paragraph is not None and position in translated:
            text = withheld_words.public_translation(position, translated[position].text, words)
        if paragraph is None:
            shown.append(Shown(None, locale))
        elif text is not None:
            shown.append(Shown(text, locale, translated[position].provenance))
        else:  # not translated, or its withheld words are not withheld in the translation yet
            shown.append(Shown(paragraph, told))
    return shown


def public_texts(story: Story) -> list[str]:
    """The translated words the public may read (for the public search index)."""
    return [s.text for s in public_paragraphs(story, target_language(story)) or [] if s.text and s.provenance]


def provenance_words(shown: list[Shown]) -> list[str]:
    """How the translation on a page was made, once per kind, in the page's language."""
    kinds = sorted({s.provenance for s in shown if s.provenance is not None}, key=list(Provenance).index)
    return [str(PROVENANCE_WORDS[k]) for k in kinds]
