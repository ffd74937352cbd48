"""Index documents built from stories. The public one is built ONLY from ``nuevonorte.consent``.

``public_document`` is the single way into the public index (see ``store.write_public``): it
returns None whenever the consent rule says the story is not public today, and otherwise
copies only public fields — public paragraphs, public cues of public transcripts, the credit
line — never the contributor, consent notes or withheld passages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from nuevonorte import consent, translations
from nuevonorte.models import Cue, MediaFile, MediaKind, PartnerStory, Story
from nuevonorte.search.schema import text_language

#: At most this many decades are listed for a story's period (a 1900–2020 span is not a facet).
MAX_DECADES = 12


@dataclass(frozen=True)
class PublicDocument:
    """A document that may enter the public index; only ``public_document`` makes one."""

    fields: dict[str, Any]


def public_document(story: Story, on: date | None = None) -> PublicDocument | None:
    """The public index document of ``story``, or None when the consent rule says no."""
    if not consent.story_is_public(story, on):
        return None
    paragraphs = [p for p in consent.public_paragraphs(story) if p is not None]
    cues: list[tuple[MediaFile, consent.PublicCue]] = []
    kinds = {"text"}
    for media in story.media:
        if consent.media_is_public(media, on):
            kinds.add(media.kind.value)
        if media.kind == MediaKind.AUDIO and consent.transcript_is_public(media, on):
            cues += [(media, cue) for cue in consent.public_cues(media) if cue is not None]
    if cues:
        kinds.add("transcript")
    translated = translations.public_texts(story)
    fields = _common_fields(story, paragraphs, cues, consent.credit_line(story) or "", translated)
    fields["media"] = ",".join(sorted(kinds))
    fields["source"] = HERE
    return PublicDocument(fields)


#: The ``source`` of this archive's own stories.
HERE = "here"


def partner_document(story: PartnerStory) -> PublicDocument:
    """The public index document of a partner archive's story: only what its origin's read API
    gave as public (``partners.holdings``); the caller checks ``partners.shown`` first."""
    paragraphs = [p for p in story.paragraphs if p]
    lang = "en" if story.language == "en" else "es"
    other = "en" if lang == "es" else "es"
    cue_texts = [str(c["text"]) for r in story.recordings for c in r["cues"]]
    cue_translations = [
        str(c["translation"]) for r in story.recordings for c in r["cues"] if c["translation"]
    ]
    names = {
        code: [str(t["name"][code]) for t in (*story.themes, *story.places) if t["name"][code]]
        for code in ("es", "en")
    }
    titles = {"es": story.title_es, "en": story.title_en}
    summaries = {"es": story.summary_es, "en": story.summary_en}
    head = {
        code: "\n".join(t for t in (titles[code], summaries[code], *names[code]) if t)
        for code in ("es", "en")
    }
    text = {
        lang: "\n\n".join(t for t in ("\n\n".join(paragraphs), "\n".join(cue_texts), story.credit) if t),
        other: "\n\n".join(t for t in (*story.translation, *cue_translations) if t),
    }
    local_themes = sorted({str(t["local"]) for t in story.themes if t.get("local")})
    local_places = sorted({str(p["local"]) for p in story.places if p.get("local")})
    kinds = {"text"} | ({"image"} if story.images else set())
    kinds |= {"audio"} if any(r.get("audio") for r in story.recordings) else set()
    kinds |= {"transcript"} if cue_texts else set()
    spell = [
        story.title_es,
        story.title_en,
        story.summary_es,
        story.summary_en,
        story.credit,
        *names["es"],
        *names["en"],
    ]
    return PublicDocument(
        {
            "sid": f"p{story.id}",
            "pid": story.public_id,
            "head_es": head["es"],
            "head_en": head["en"],
            "text_es": text["es"],
            "text_en": text["en"],
            "title_es": story.title_es,
            "title_en": story.title_en,
            "summary_es": story.summary_es,
            "summary_en": story.summary_en,
            "body": "\n\n".join(paragraphs),
            "cues": "[]",
            "themes_es": " · ".join(str(t["name"]["es"] or t["name"]["en"]) for t in story.themes),
            "themes_en": " · ".join(str(t["name"]["en"] or t["name"]["es"]) for t in story.themes),
            "spell": "\n".join(t for t in spell if t),
            "theme": ",".join(local_themes),
            "place": ",".join(local_places),
            "country": "",
            "language": lang,
            "media": ",".join(sorted(kinds)),
            "decade": "",
            "source": f"p{story.partner_id}",
        }
    )


def staff_document(story: Story) -> dict[str, Any] | None:
    """The staff index document of ``story``: everything curators see; None for a tombstone or
    a story its contributor keeps to themselves (``consent.curators_may_read``)."""
    if not consent.curators_may_read(story):
        return None
    cues = [
        (media, cue) for media in story.media if media.transcript is not None for cue in media.transcript.cues
    ]
    current = story.current_consent
    translated = [t.text for t in translations.for_staff(story).values()]
    # Curators find a corrected story by the narrator's words as told too.
    told = [p for p in story.told_paragraphs() if story.corrected and p not in story.paragraphs()]
    fields = _common_fields(
        story, story.paragraphs() + told, cues, current.credit_name if current else "", translated
    )
    kinds = {"text"} | {m.kind.value for m in story.media} | ({"transcript"} if cues else set())
    fields["media"] = ",".join(sorted(kinds))
    fields["status"] = story.status.value
    return fields


def _common_fields(
    story: Story,
    paragraphs: list[str],
    cues: Sequence[tuple[MediaFile, Cue | consent.PublicCue]],
    credit: str,
    translated: list[str],
) -> dict[str, Any]:
    lang = text_language(story.original_language)
    other = "en" if lang == "es" else "es"
    body = "\n\n".join(paragraphs)
    transcript: dict[str, list[str]] = {"es": [], "en": []}
    stored_cues = []
    for media, cue in cues:
        cue_lang = "es" if (media.transcript and media.transcript.language == "es") else "en"
        transcript[cue_lang].append(cue.text)
        if cue.translation:
            transcript["en" if cue_lang == "es" else "es"].append(cue.translation)
        stored_cues.append([cue.start_ms, cue.text, cue_lang, cue.translation or ""])
    themes_es = [t.name_es for t in story.themes]
    themes_en = [t.name_en for t in story.themes]
    places_es = [p.name_es for p in story.places]
    places_en = [p.name_en for p in story.places]
    titles = {"es": story.title_es, "en": story.title_en}
    summaries = {"es": story.summary_es, "en": story.summary_en}
    themes = {"es": themes_es, "en": themes_en}
    places = {"es": places_es, "en": places_en}
    # The searched fields (schema.QUERY_FIELDS): per language, a short head and the long text.
    head = {
        code: "\n".join(t for t in (titles[code], summaries[code], *themes[code], *places[code]) if t)
        for code in ("es", "en")
    }
    text = {
        lang: "\n\n".join(t for t in (body, "\n".join(transcript[lang]), credit) if t),
        other: "\n".join(transcript[other]),
    }
    # The body's translation is searched in its own language (``translations``: never a
    # withheld paragraph's, never a stale one).
    into = translations.target_language(story)
    text[into] = "\n\n".join(t for t in (text[into], *translated) if t)
    # The "did you mean" vocabulary: titles, summaries, names — not every word of the body,
    # which would double the analysis cost of indexing (docs/parts/search.md).
    texts = [story.title_es, story.title_en, story.summary_es, story.summary_en, credit]
    texts += themes_es + themes_en + places_es + places_en
    return {
        "sid": str(story.id),
        "pid": story.public_id,
        "head_es": head["es"],
        "head_en": head["en"],
        "text_es": text["es"],
        "text_en": text["en"],
        "title_es": story.title_es,
        "title_en": story.title_en,
        "summary_es": story.summary_es,
        "summary_en": story.summary_en,
        "body": body,
        "cues": json.dumps(stored_cues, ensure_ascii=False),
        "themes_es": " · ".join(themes_es),
        "themes_en": " · ".join(themes_en),
        "spell": "\n".join(t for t in texts if t),
        "theme": ",".join(sorted(t.slug for t in story.themes)),
        "place": ",".join(sorted(p.slug for p in story.places)),
        "country": ",".join(sorted({p.country_code.lower() for p in story.places})),
        "language": story.original_language or "es",
        "decade": ",".join(_decades(story.period_start, story.period_end)),
    }


def _decades(start: int | None, end: int | None) -> list[str]:
    if start is None and end is None:
        return []
    first = (start if start is not None else end) or 0
    last = end if end is not None and end >= first else first
    decades = range(first // 10 * 10, last // 10 * 10 + 1, 10)
    return [f"{d}s" for d in decades][:MAX_DECADES]
