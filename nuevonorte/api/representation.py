"""Stories, collections and terms as the read API gives them: both languages side by side, and
only what the consent rule makes public (the same predicates the public pages use, so no view
decides visibility). Every address is absolute; a story's and a collection's ``url`` is its
persistent address (``public.persistent``), and every file points at the archive's own media
handler, so that a partner who keeps a copy still cannot serve a file once it is withdrawn.

The same shapes are written in ``nuevonorte.api.openapi``; a test checks every answer
against them.
"""

from __future__ import annotations

from typing import Any

from nuevonorte import consent, transcripts, translations
from nuevonorte.models import Collection, EntryKind, MediaFile, MediaKind, Place, Story, Theme
from nuevonorte.public.address import absolute_url
from nuevonorte.public.cards import card_image
from nuevonorte.public.media import VARIANTS, public_key
from nuevonorte.public.persistent import collection_url, story_url

LANGS = ("es", "en")


def both(es: str, en: str) -> dict[str, str | None]:
    """A text in both languages; None where it was not written in one."""
    return {"es": es or None, "en": en or None}


def term(found: Theme | Place, count: int | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": found.slug,
        "slug": {"es": found.slug, "en": found.slug_en},
        "name": both(found.name_es, found.name_en),
        "url": {
            lang: absolute_url(
                "public.theme" if isinstance(found, Theme) else "public.place",
                lang=lang,
                slug=found.slug_for(lang),
            )
            for lang in LANGS
        },
    }
    if count is not None:
        shown["stories"] = count
    return shown


def story_summary(story: Story) -> dict[str, Any]:
    """What a list shows of a public story."""
    image = card_image(story)
    return {
        "id": story.public_id,
        "url": story_url(story.public_id),
        "api_url": absolute_url("read_api.story", story_id=story.public_id),
        "title": both(story.title_es, story.title_en),
        "summary": both(story.summary_es, story.summary_en),
        "language": story.original_language,
        "published": story.published_on.isoformat() if story.published_on else None,
        "content_warnings": story.warning_codes(),
        "thumbnail": _media_url(image, "thumbnail") if image is not None else None,
    }


def story(found: Story, collections: list[Collection]) -> dict[str, Any]:
    """Everything the public may see of a story."""
    assert consent.story_is_public(found), "only a public story is represented"
    shown = story_summary(found)
    shown |= {
        "credit": consent.credit_line(found),
        "period": {"start": found.period_start, "end": found.period_end},
        "themes": [term(t) for t in found.themes],
        "places": [term(p) for p in found.places],
        "text": {"language": found.original_language, "paragraphs": consent.public_paragraphs(found)},
        "translation": _translation(found),
        "images": [
            _image(m) for m in found.media if m.kind == MediaKind.IMAGE and consent.media_is_public(m)
        ],
        "recordings": [
            _recording(m)
            for m in found.media
            if m.kind == MediaKind.AUDIO and (consent.media_is_public(m) or consent.transcript_is_public(m))
        ],
        # Whether a partner archive may place it in its own collections (the narrator's choice).
        "in_collections": bool(found.current_consent and found.current_consent.choices.in_collections),
        "collections": [
            {"id": c.public_id, "url": collection_url(c.public_id), "title": both(c.title_es, c.title_en)}
            for c in collections
        ],
        "citation": {
            "bibtex": absolute_url("public.cite_bibtex", lang="es", story_id=found.public_id),
            "csl_json": absolute_url("public.cite_csl_json", lang="es", story_id=found.public_id),
        },
    }
    return shown


def collection_summary(found: Collection) -> dict[str, Any]:
    cover = found.cover if found.cover is not None and consent.media_is_public(found.cover) else None
    return {
        "id": found.public_id,
        "url": collection_url(found.public_id),
        "api_url": absolute_url("read_api.collection", collection_id=found.public_id),
        "title": both(found.title_es, found.title_en),
        "published": found.published_on.isoformat() if found.published_on else None,
        "cover": _media_url(cover, "thumbnail") if cover is not None else None,
    }


def collection(found: Collection) -> dict[str, Any]:
    """A published collection: its introduction, then its entries in order. A story entry
    appears only while its story may be shown in collections; nothing says one was left out."""
    assert consent.collection_is_public(found), "only a published collection is represented"
    entries: list[dict[str, Any]] = []
    for entry in found.entries:
        if entry.kind == EntryKind.TEXT:
            entries.append({"kind": "text", "text": both(entry.text_es, entry.text_en)})
        elif consent.entry_story_is_public(entry) and entry.story is not None:
            note = both(entry.text_es, entry.text_en)
            entries.append({"kind": "story", "story": story_summary(entry.story), "note": note})
    return collection_summary(found) | {"intro": both(found.intro_es, found.intro_en), "entries": entries}


def _translation(found: Story) -> dict[str, Any] | None:
    target = translations.target_language(found)
    paragraphs = translations.public_paragraphs(found, target)
    if paragraphs is None:
        return None
    return {
        "language": target,
        "paragraphs": [
            {
                "text": p.text,
                "language": p.language,
                "provenance": str(p.provenance) if p.provenance else None,
            }
            for p in paragraphs
        ],
    }


def _media_url(media: MediaFile, variant: str) -> str | None:
    if public_key(media, variant) is None:
        return None
    return absolute_url("media.media", media_id=media.public_id, variant=variant)


def _image(media: MediaFile) -> dict[str, Any]:
    return {
        "id": media.public_id,
        "alt": both(media.alt_es, media.alt_en),
        "width": media.width,
        "height": media.height,
        "files": {v: url for v in VARIANTS if (url := _media_url(media, v)) is not None},
    }


def _recording(media: MediaFile) -> dict[str, Any]:
    """A recording whose voice or transcript is public. Its file and its id only while the voice
    itself is public and playable: a private voice's media id is never handed out (A02). Its
    transcript only once public (a machine draft nobody reviewed is not)."""
    playable = consent.public_audio_key(media) is not None
    public = consent.media_is_public(media)
    readable = media.transcript is not None and consent.transcript_is_public(media)
    cues = consent.public_cues(media)
    speakers = transcripts.public_speakers(media)
    audio = absolute_url("media.media", media_id=media.public_id, variant="original")
    return {
        "id": media.public_id if public else None,
        "audio": audio if playable else None,
        "duration_seconds": media.duration_seconds if public else None,
        "transcript_vtt": absolute_url("media.transcript_vtt", media_id=media.public_id)
        if public and readable
        else None,
        "transcript": {
            "language": media.transcript.language if readable and media.transcript is not None else None,
            "cues": [
                None
                if cue is None
                else {
                    "start_seconds": cue.start_ms / 1000,
                    "end_seconds": cue.end_ms / 1000,
                    "text": cue.text,
                    "translation": cue.translation or None,
                    "speaker": speaker or None,
                }
                for cue, speaker in zip(cues, speakers or [""] * len(cues), strict=True)
            ],
        },
    }
